"""Fetching a page export's download link: only to allowed hosts, within a byte cap and the
export's deadline; a body that is not whole never becomes a page file."""

from __future__ import annotations

import time
import typing as t
from http import HTTPStatus
from urllib.parse import urljoin

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_coda.bodies import BodyLimitError, keep_body, stream_capped
from tap_coda.errors import CodaRequestError

#: Redirects followed from one link (each to an allowed host only).
MAX_REDIRECTS = 3
#: What a download into a file keeps in memory: enough to tell an XML error body.
HEAD_BYTES = 4096


class Limits(t.NamedTuple):
    """How much of a download is read: bytes once decoded, and until when (monotonic)."""

    max_bytes: int
    deadline: float | None = None


def _get(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    refusal: t.Callable[[str], str | None],
) -> requests.Response:
    """GET `url`, following redirects by hand: each target is checked before it is asked."""
    for _ in range(MAX_REDIRECTS + 1):
        response = session.get(url, timeout=timeout, stream=True, allow_redirects=False)
        if not response.is_redirect:
            return response
        response.close()
        target = urljoin(url, response.headers.get("Location", ""))
        if reason := refusal(target):
            msg = f"the download link redirected ({response.status_code}) elsewhere: {reason}"
            raise CodaRequestError(msg, http_status=response.status_code)
        url = target
    msg = f"the download link redirected more than {MAX_REDIRECTS} times"
    raise CodaRequestError(msg)


def fetch_checked(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    refusal: t.Callable[[str], str | None],
    limits: Limits,
    into: t.BinaryIO | None = None,
    clock: t.Callable[[], float] = time.monotonic,
) -> requests.Response:
    """GET a signed export link and check its body; 5xx, 429 and bodies that are not whole
    raise `RetriableAPIError` (the caller retries); a refused link or redirect, a body over
    the cap or past the deadline raise `CodaRequestError` (the page fails).

    With `into`, the body goes to that file (emptied first: a retry starts over) and the
    response's `content` is its first `HEAD_BYTES` only."""
    if limits.deadline is not None:
        left = limits.deadline - clock()
        if left <= 0:
            raise BodyLimitError("the export's deadline passed before its download")
        timeout = min(timeout, left)
    response = _get(session, url, timeout=timeout, refusal=refusal)
    held = bytearray()
    if into is not None:
        into.seek(0)
        into.truncate()
    try:
        size = stream_capped(
            response,
            held.extend if into is None else into.write,
            limit=limits.max_bytes,
            what="the download",
            deadline=limits.deadline,
            clock=clock,
        )
    finally:
        response.close()
    if into is not None:
        into.flush()
        into.seek(0)
        held[:] = into.read(HEAD_BYTES)
    keep_body(response, bytes(held))
    status = response.status_code
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or status == HTTPStatus.TOO_MANY_REQUESTS:
        raise RetriableAPIError(f"{status} from the download link", response)
    encoded = response.headers.get("Content-Encoding", "").strip().lower()
    kind = response.headers.get("Content-Type", "").lower()
    if response.ok and not encoded and kind.startswith("text/html"):
        # Coda's blob host sends exports gzip-encoded (NOTES.md §4): a plain HTML page is a
        # proxy's error page.
        msg = f"the download link answered an HTML page, not the export ({size} bytes)"
        raise RetriableAPIError(msg, response)
    return response
