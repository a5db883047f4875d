"""Async page export state: requests, their polls and short-lived download links (NOTES §4).

A request answers 404 on its first poll (replication lag), `inProgress` until its time is
up, then `complete` with a fresh signed link on every poll, or `failed` with an `error`.
A link serves gzip for `link_ttl` seconds; afterwards it answers S3-style XML: the first
expired hit per export `NoSuchKey` with HTTP 200 (the reported case), then `AccessDenied`
with 403 (the measured case).
"""

from __future__ import annotations

import gzip
import random
import threading
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import quote
from xml.sax.saxutils import escape

BLOB_PREFIX = "/blobs/DOC_EXPORT_RENDERING/"


@dataclass
class ExportJob:
    id: str
    doc_id: str
    page_id: str
    output_format: str
    started: float  # time.monotonic()
    body_gz: bytes  # snapshot of the page at POST time, gzip-compressed
    error: str | None = None
    polls: int = 0
    expired_hits: int = 0


@dataclass(frozen=True)
class Link:
    sig: str
    job_id: str
    minted: float


class ExportRegistry:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed ^ 0x5EED)
        self._lock = threading.Lock()
        self.jobs: dict[str, ExportJob] = {}
        self.links: dict[str, Link] = {}
        self.latest_by_key: dict[tuple[str, str], str] = {}  # blob key -> newest job id

    def begin(
        self, doc_id: str, page_id: str, output_format: str, content: bytes, error: str | None
    ) -> ExportJob:
        with self._lock:
            job = ExportJob(
                id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                doc_id=doc_id,
                page_id=page_id,
                output_format=output_format,
                started=time.monotonic(),
                body_gz=gzip.compress(content, mtime=0),
                error=error,
            )
            self.jobs[job.id] = job
            self.latest_by_key[(page_id, doc_id)] = job.id
            return job

    def mint_link(self, job: ExportJob) -> Link:
        with self._lock:
            link = Link(f"{self._rng.getrandbits(96):024x}", job.id, time.monotonic())
            self.links[link.sig] = link
            return link


def blob_key(job: ExportJob) -> str:
    """`{pageId}/{docId}` as the link's path holds it: each id escaped (ids may hold "/")."""
    return f"{quote(job.page_id, safe='')}/{quote(job.doc_id, safe='')}"


def download_url(origin: str, job: ExportJob, link: Link, ttl: float) -> str:
    return f"{origin}{BLOB_PREFIX}{blob_key(job)}?X-Amz-Expires={int(ttl)}&sig={link.sig}"


def _request_id(sig: str) -> str:
    return sig[:16].upper() or "0000000000000000"


def s3_no_such_key(page_id: str, doc_id: str, sig: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
        f"<Key>DOC_EXPORT_RENDERING/{escape(page_id)}/{escape(doc_id)}</Key>"
        f"<RequestId>{_request_id(sig)}</RequestId><HostId>fakecoda</HostId></Error>"
    ).encode()


def s3_access_denied(sig: str, expired: bool, ttl: float) -> bytes:
    detail = (
        f"<Message>Request has expired</Message><X-Amz-Expires>{int(ttl)}</X-Amz-Expires>"
        f"<ServerTime>{formatdate(usegmt=True)}</ServerTime>"
        if expired
        else "<Message>Access Denied</Message>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessDenied</Code>{detail}"
        f"<RequestId>{_request_id(sig)}</RequestId><HostId>fakecoda</HostId></Error>"
    ).encode()
