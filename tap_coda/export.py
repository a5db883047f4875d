"""Coda's asynchronous page export: start, poll, download, check (NOTES.md §4, §13.2-5).

Start with a POST (a write), wait a moment (export ids take time to replicate, so early
polls may 404), poll until the status carries `downloadLink` (success) or `error`
(failure) within a deadline, download at once (links live about five minutes), and reject
an S3-style XML error body (a dead link can answer it with HTTP 200) by polling again for a
fresh link. `status` is only logged: its values differ between spec, samples and reality.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import typing as t
from base64 import b64encode
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from tap_coda.client import CodaClientError, CodaRequestError, json_body
from tap_coda.egress import segment
from tap_coda.spooled import PART_BYTES, Export, SpooledExport, is_utf8

if t.TYPE_CHECKING:
    from tap_coda.client import CodaStream

#: Seconds between polls: quick at first (small pages finish fast), then steady.
POLL_SCHEDULE = (1.0, 1.0, 2.0, 3.0)
#: How many fresh links to try when downloads keep answering XML errors.
MAX_LINK_REFRESHES = 3


def as_served(body: bytes) -> str | bytes:
    """The export as text, or its bytes as served when they are not UTF-8 (kept, not lost)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return bytes(body)


def content_fields(content: str | bytes | None) -> dict[str, str | None]:
    """A `page_contents` record's content: `content`, or `content_base64` for bytes that are
    not UTF-8 (the target writes them as they came)."""
    if isinstance(content, bytes):
        return {"content": None, "content_base64": b64encode(content).decode("ascii")}
    return {"content": content}


@dataclass
class _Spool:
    path: Path
    file: t.BinaryIO
    kept: bool = False  # handed on as a SpooledExport: its reader removes it


@contextlib.contextmanager
def _spool_file(stream: CodaStream) -> t.Iterator[_Spool]:
    """A work file for one download, removed when done unless `_taken` kept it."""
    fd, name = tempfile.mkstemp(prefix="export-", suffix=".part", dir=stream.services.work_dir())
    spool = _Spool(Path(name), open(fd, "w+b"))  # noqa: PTH123, SIM115
    try:
        yield spool
    finally:
        spool.file.close()
        if not spool.kept:
            spool.path.unlink(missing_ok=True)


def _taken(spool: _Spool) -> Export:
    """The downloaded export: in memory up to `PART_BYTES`, as it always was; past that a
    `SpooledExport` of its work file."""
    size = spool.file.seek(0, os.SEEK_END)
    if size <= PART_BYTES:
        spool.file.seek(0)
        return as_served(spool.file.read())
    spool.kept = True
    return SpooledExport(spool.path, size, is_utf8(spool.path))


def _download(stream: CodaStream, link: str, deadline: float) -> tuple[Export | None, int]:
    """The export behind `link` (None when the link is dead: an error status or an S3
    XML error body) and the HTTP status it answered."""
    with _spool_file(stream) as spool:
        body = stream.download_blob(link, deadline, into=spool.file)
        if body.status_code == HTTPStatus.OK and not is_xml_error(body.content):
            return _taken(spool), body.status_code
        return None, body.status_code


def is_xml_error(body: bytes) -> bool:
    """True for S3's `<Error><Code>…</Code>` documents served in place of the content."""
    head = body[:512].lstrip()
    return head.startswith((b"<?xml", b"<Error")) and b"<Code>" in body[:2048]


def export_page(
    stream: CodaStream,
    doc_id: str,
    page_id: str,
    output_format: str,
    *,
    timeout_s: float,
    first_wait_s: float = 1.0,
    poll_scale: float = 1.0,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> Export:
    """Export one page and return its text (bytes when they are not UTF-8; a
    `SpooledExport` when it is over `PART_BYTES`); raise `CodaRequestError` when it cannot
    be had.

    `sleep` and `clock` are the waits and the deadline's time (tests pass their own)."""
    deadline = clock() + timeout_s
    base = f"/docs/{segment(doc_id)}/pages/{segment(page_id)}/export"
    started = json_body(stream.call("POST", base, json={"outputFormat": output_format}))
    request_id = started["id"]
    status_path = f"{base}/{segment(request_id)}"
    sleep(first_wait_s)

    refreshes = 0
    polls = 0
    while True:
        if clock() > deadline:
            msg = f"export did not finish within {timeout_s:g} s"
            raise CodaRequestError(msg)
        try:
            status = json_body(stream.call("GET", status_path))
        except CodaClientError as exc:
            if getattr(exc.response, "status_code", None) != HTTPStatus.NOT_FOUND or polls > 20:
                raise
            status = {}  # the id has not replicated yet: an early 404 is normal
        polls += 1
        stream.logger.debug("Export %s of %s: %s", request_id, page_id, status.get("status"))
        if status.get("error"):
            msg = f"export failed: {status['error']}"
            raise CodaRequestError(msg)
        link = status.get("downloadLink")
        if link:
            content, answered = _download(stream, link, deadline)
            if content is not None:
                if isinstance(content, bytes) or getattr(content, "utf8", True) is False:
                    stream.logger.warning(
                        "Page %s export (%s) is not UTF-8: kept as served", page_id, output_format
                    )
                return content
            refreshes += 1
            if refreshes > MAX_LINK_REFRESHES:
                msg = f"download link kept failing ({answered}, XML error body)"
                raise CodaRequestError(msg, http_status=answered)
            stream.logger.info("Download link for %s was dead; asking for a fresh one", page_id)
            continue  # polling the status again mints a fresh link
        sleep(POLL_SCHEDULE[min(polls - 1, len(POLL_SCHEDULE) - 1)] * poll_scale)
