"""Images and attachments: fetched from the asset hosts as soon as an export, a page's cover
or a row reveals them, and sent to the target as `assets` records (docs/RECORDS.md).

Asset links expire, so each file is fetched on a worker the moment its URL is seen, while
exports and row reads go on; the bytes go to a spool file on disk, never to memory. When a
doc's other children are done, `AssetsStream` sends each of its files as ordered base64
chunks of at most `CHUNK` bytes, then one closing record with the sha256 and size: any
target can keep them, and neither process holds more than a chunk of a file.

A fetch never carries the API token (its own session), never leaves the `asset_hosts`
(redirects checked before they are followed, tap_coda.assetrefs) and stops at
`asset_max_bytes`. A file that cannot be had (404, an expired link, over the cap, a
disallowed host) is a failure record of `object_type: "asset"`; the page keeps its link.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
import threading
import typing as t
from concurrent.futures import Future
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urljoin

import requests

from tap_coda import assetrefs, httpsession, schemas
from tap_coda.streams import ChildStream, DocsStream
from tap_coda.workers import WorkerPool

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_coda.settings import Settings

#: Raw bytes per `assets` chunk record (base64 makes it a third larger on the wire).
CHUNK = 256 * 1024
FETCH_WORKERS = 4
MAX_REDIRECTS = 3
ATTEMPTS = 3


class AssetError(Exception):
    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclass
class Fetched:
    path: Path
    sha256: str
    size: int
    content_type: str | None


@dataclass
class AssetJob:
    doc_id: str
    url: str  # as first found
    key: str  # assetrefs.key_of(url)
    referrers: set[str] = field(default_factory=set)  # "page:<id>", "table:<id>"
    future: Future[Fetched] | None = None
    #: what the last run kept of this file (its key was seen before): not downloaded again
    held: dict[str, t.Any] | None = None


class AssetFetcher:
    """The run's asset downloads: started when found, collected per doc."""

    def __init__(self, settings: Settings, user_agent: str) -> None:
        self.hosts = settings.asset_hosts
        self.max_bytes = settings.asset_max_bytes
        self.timeout = float(settings.request_timeout)
        self._spool: Path | None = None  # made at the first download (not for --discover)
        self._pool = WorkerPool(FETCH_WORKERS, thread_name_prefix="asset")
        self._jobs: dict[str, dict[str, AssetJob]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._user_agent = user_agent
        self._count = 0
        #: doc id -> key -> the file the previous runs kept (the `assets` bookmark)
        self.held: dict[str, dict[str, dict[str, t.Any]]] = {}
        #: the hosts' names as bytes: a rows page naming none of them holds no asset
        self.markers = tuple(h.split(":", 1)[0].encode() for h in self.hosts)

    def found(self, doc_id: str, referrer: str, urls: t.Iterable[str]) -> None:
        for url in assetrefs.assets_among(urls, self.hosts):
            key = assetrefs.key_of(url)
            with self._lock:
                jobs = self._jobs.setdefault(doc_id, {})
                job = jobs.get(key)
                if job is None:
                    job = jobs[key] = AssetJob(doc_id, url, key)
                    job.held = self.held.get(doc_id, {}).get(key)
                    if job.held is None:
                        self._count += 1
                        if self._spool is None:
                            self._spool = Path(tempfile.mkdtemp(prefix="tap-coda-assets-"))
                        target = self._spool / f"{self._count}.part"
                        job.future = self._pool.submit(self._fetch, url, target)
                job.referrers.add(referrer)

    def take(self, doc_id: str) -> list[AssetJob]:
        with self._lock:
            return list(self._jobs.pop(doc_id, {}).values())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)

    # -- one download (on a worker) ------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = httpsession.Session()  # never the API's: no token
            session.headers["User-Agent"] = self._user_agent
        return session

    def _fetch(self, url: str, target: Path) -> Fetched:
        for attempt in range(ATTEMPTS):
            try:
                return self._fetch_once(url, target)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == ATTEMPTS - 1:
                    raise AssetError(
                        f"could not download the asset: {type(exc).__name__}"
                    ) from None
            except AssetError as exc:
                retriable = exc.http_status is not None and exc.http_status >= 500
                if not retriable or attempt == ATTEMPTS - 1:
                    raise
        raise AssetError("could not download the asset")  # not reached

    def _open(self, url: str) -> requests.Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._session().get(
                url, timeout=self.timeout, stream=True, allow_redirects=False
            )
            if not response.is_redirect:
                return response
            response.close()
            target = urljoin(url, response.headers.get("Location", ""))
            if reason := assetrefs.refusal(target, self.hosts):
                msg = f"the asset redirected ({response.status_code}) off the asset hosts: {reason}"
                raise AssetError(msg, response.status_code)
            url = target
        raise AssetError(f"the asset redirected more than {MAX_REDIRECTS} times")

    def _fetch_once(self, url: str, target: Path) -> Fetched:
        response = self._open(url)
        with response:
            status = response.status_code
            if status != HTTPStatus.OK:
                why = "the link expired or was refused" if status == HTTPStatus.FORBIDDEN else ""
                raise AssetError(f"the asset host answered {status} {why}".strip(), status)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                over = f"{int(declared):,} bytes, over asset_max_bytes ({self.max_bytes:,})"
                msg = f"the asset is {over}"
                raise AssetError(msg, status)
            digest, size = hashlib.sha256(), 0
            with target.open("wb") as out:
                for piece in response.iter_content(CHUNK):
                    size += len(piece)
                    if size > self.max_bytes:
                        out.close()
                        target.unlink(missing_ok=True)
                        msg = f"the asset goes past asset_max_bytes ({self.max_bytes:,})"
                        raise AssetError(msg, status)
                    digest.update(piece)
                    out.write(piece)
            if declared.isdigit() and size != int(declared):
                raise AssetError(f"the asset ended at {size:,} of {declared} bytes", 502)
            kind = response.headers.get("Content-Type")
            return Fetched(target, digest.hexdigest(), size, kind)


class AssetsStream(ChildStream):
    """A doc's images and attachments: chunk records, then one closing record per file."""

    name = "assets"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}"  # no request of its own: the fetcher did the work
    primary_keys = ("doc_id", "key", "seq")
    schema = schemas.ASSET

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        fetcher = self.services.assets
        if fetcher is None:
            return
        kept: dict[str, dict[str, t.Any]] = {}
        for job in sorted(fetcher.take(context["doc_id"]), key=lambda j: j.key):
            if job.held is not None:  # same key as a file held: linked, not downloaded
                kept[job.key] = job.held
                yield {**self._closing(job, job.held), "seq": 0, "status": "held"}
                continue
            assert job.future is not None
            try:
                fetched = job.future.result()
            except AssetError as exc:
                self._failed(job, str(exc), exc.http_status)
                continue
            yield from self._records(job, fetched)
            kept[job.key] = {
                "name": assetrefs.file_name(job.url),
                "sha256": fetched.sha256,
                "size": fetched.size,
                "content_type": fetched.content_type,
            }
        if kept:
            held = self.stream_state.setdefault("held", {})
            held[context["doc_id"]] = {**held.get(context["doc_id"], {}), **kept}

    @staticmethod
    def _closing(job: AssetJob, facts: dict[str, t.Any]) -> dict[str, t.Any]:
        return {
            "doc_id": job.doc_id,
            "key": job.key,
            "url": job.url,
            "kind": "file",
            **facts,
            "referrers": sorted(job.referrers),
        }

    def _failed(self, job: AssetJob, error: str, status: int | None) -> None:
        self.logger.warning("Could not back up asset %s: %s", job.key, error)
        self.ledger.record_failure(
            object_type="asset",
            doc_id=job.doc_id,
            object_id=job.key,
            name=", ".join(sorted(job.referrers)),
            error=error,
            http_status=status,
        )

    def _records(self, job: AssetJob, fetched: Fetched) -> t.Iterator[dict[str, t.Any]]:
        base = {"doc_id": job.doc_id, "key": job.key, "url": job.url}
        seq = 0
        try:
            with fetched.path.open("rb") as spool:
                while piece := spool.read(CHUNK):
                    data = base64.b64encode(piece).decode("ascii")
                    yield {**base, "seq": seq, "kind": "chunk", "data": data}
                    seq += 1
        finally:
            fetched.path.unlink(missing_ok=True)
        facts = {
            "name": assetrefs.file_name(job.url),
            "sha256": fetched.sha256,
            "size": fetched.size,
            "content_type": fetched.content_type,
        }
        yield {**self._closing(job, facts), "seq": seq, "status": "fetched"}
