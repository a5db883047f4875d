"""The fake Coda API over real HTTP: a ThreadingHTTPServer on 127.0.0.1 in a daemon thread.

Per request: auth (401) → rate limit (429) → generic fault → endpoint (`api.py`).
Download links (`/blobs/…`) skip auth and rate limits, as Coda's web-app host does.
The HTTP server, its handler and the writing of each answer are in `wire.py`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import parse_qsl

from fakecoda.api import CodaApi, Request, Response, error
from fakecoda.assets import AssetHost
from fakecoda.exports import BLOB_PREFIX, ExportRegistry
from fakecoda.faults import GENERIC_KINDS, Fault, FaultInjector
from fakecoda.mutations import MutationQueue
from fakecoda.ratelimit import RateLimits, SlidingWindowLimiter
from fakecoda.wire import _Handler, _Server, faulted, write_response
from fakecoda.workspace import Workspace
from fakecoda.writes import Writes

logger = logging.getLogger(__name__)

API_PREFIX = "/apis/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class FakeConfig:
    token: str = "fake-token-123"
    page_clamp: int = 3  # max items per list page; a bigger `limit` is clamped silently
    column_clamp: int = 100  # listColumns' real cap (NOTES §6)
    row_clamp: int | None = None  # listRows' cap; None = page_clamp
    rate_limits: RateLimits | None = None  # None = unlimited; RateLimits.coda() = Coda's
    latency: float = 0.0  # seconds added to every response
    export_seconds: float = 0.0  # how long an export stays inProgress
    first_poll_404: bool = True  # the first status poll of each export answers 404
    link_ttl: float = 300.0  # seconds a downloadLink works (X-Amz-Expires=300)
    faults: list[Fault] = field(default_factory=list)
    seed: int = 0
    shared_blob_key: bool = False  # True: a page's exports share one blob (newest wins)
    asset_link_ttl: float = 300.0  # seconds an asset link works (fakecoda.assets)
    mutation_seconds: float = 0.0  # how long a write waits before it is applied (mutations.py)
    read_only: bool = False  # the token is restricted to reading: every write is a 403


@dataclass(frozen=True, slots=True)
class LogEntry:
    method: str
    path: str  # without the query
    query: dict[str, str]
    status: int  # 0 when no response was sent (faults "reset", "timeout")
    rate_class: str | None  # "read" / "write" / "list_docs" / "blob" / None
    ts: float  # time.monotonic() when the request arrived
    fault: str | None = None  # the injected fault kind, if one fired


def rate_class_of(method: str, path: str) -> str | None:
    if path.startswith(BLOB_PREFIX):
        return "blob"
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        return None
    if method in WRITE_METHODS:
        return "write"  # the export POST counts as a write (NOTES §4, §9)
    if path.rstrip("/") == API_PREFIX + "/docs":
        return "list_docs"
    return "read"


PAGE_WRITE = re.compile(rf"^{API_PREFIX}/docs/[^/]+/pages(/[^/]+)?/?$")


def is_page_write(req: Request) -> bool:
    """Creating or updating a page writes doc content: Coda's stricter class (NOTES §9)."""
    return req.method in ("POST", "PUT") and PAGE_WRITE.match(req.path) is not None


class FakeCoda:
    """`with FakeCoda(workspace, FakeConfig()) as fake:` serves until the block ends."""

    def __init__(
        self,
        workspace: Workspace,
        config: FakeConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.workspace = workspace
        self.config = config or FakeConfig()
        self.host, self._port = host, port
        self.log: list[LogEntry] = []
        self._log_lock = threading.Lock()
        self.limiter = SlidingWindowLimiter(self.config.rate_limits)
        self.faults = FaultInjector(self.config.faults, self.config.seed)
        self.exports = ExportRegistry(self.config.seed)
        self.api = CodaApi(workspace, self.config, self.exports, self.faults)
        self.mutations = MutationQueue(self.config.mutation_seconds, self.config.seed)
        self.api.writes = Writes(self.api, self.mutations)
        self._server: _Server | None = None
        #: with assets in the workspace: their host, and a host no backup may contact
        self.asset_host: AssetHost | None = None
        self.elsewhere: AssetHost | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeCoda:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self._port), self)
        self.api.origin = self.origin
        if self.workspace.assets:
            self.elsewhere = AssetHost({}).start()
            self.asset_host = AssetHost(
                self.workspace.assets, self.config.asset_link_ttl, self.elsewhere.origin
            ).start()
            self.api.sign_assets = self.asset_host.sign
        self.api.base = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakecoda:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("fake Coda API serving at %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        for host in (self.asset_host, self.elsewhere):
            if host is not None:
                host.stop()
        server.shutdown()
        with server.connections_lock:
            for conn in list(server.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeCoda:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeCoda is not started")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """Where the web app (download links) lives: http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The API base the tap's `api_url` is set to."""
        return self.origin + API_PREFIX

    # ---- request log -------------------------------------------------------------------------

    def count(
        self,
        method: str | None = None,
        rate_class: str | None = None,
        path_re: str | None = None,
        status: int | None = None,
    ) -> int:
        pattern = re.compile(path_re) if path_re is not None else None
        with self._log_lock:
            entries = list(self.log)
        return sum(
            1
            for e in entries
            if (method is None or e.method == method.upper())
            and (rate_class is None or e.rate_class == rate_class)
            and (status is None or e.status == status)
            and (pattern is None or pattern.search(e.path))
        )

    def reset_log(self) -> None:
        with self._log_lock:
            self.log.clear()

    def settle_writes(self) -> int:
        """Apply every queued write now, due or not (tests); returns how many."""
        with self.workspace.lock:
            return self.mutations.settle(everything=True)

    @property
    def fault_hits(self) -> list[int]:
        """How often each configured fault fired, in `config.faults` order."""
        return list(self.faults.hits)

    def prewarm(
        self, value_formats: tuple[str, ...] = ("simpleWithArrays",), limit: int | None = None
    ) -> int:
        """Pre-render every rows page of a full listing (benchmarks); returns the count."""
        if self._server is None:
            raise RuntimeError("start the fake first: rendered pages embed its URL")
        return self.api.prewarm(value_formats, limit)

    # ---- serving -----------------------------------------------------------------------------

    def _serve(self, h: _Handler) -> None:
        arrived = time.monotonic()
        path, _, raw_query = h.path.partition("?")
        length = int(h.headers.get("Content-Length") or 0)
        req = Request(
            method=h.command,
            path=path,
            raw_query=raw_query,
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            headers={},
            body=h.rfile.read(length) if length > 0 else b"",
        )
        version = h.headers.get("X-Coda-Doc-Version")
        if version is not None:
            req.headers["x-coda-doc-version"] = version
        rate_class = rate_class_of(req.method, path)
        try:
            resp = self._respond(req, h.headers.get("Authorization"), rate_class)
        except Exception:
            logger.exception("fake Coda API failed on %s %s", req.method, h.path)
            resp = error(500, "The fake Coda API failed; see its log.")
        # Logged before answering: a client that reads the log after its response sees it.
        status = 0 if resp.fault in ("reset", "timeout") else resp.status
        entry = LogEntry(req.method, path, req.query, status, rate_class, arrived, resp.fault)
        with self._log_lock:
            self.log.append(entry)
        write_response(h, resp, self.config.latency)

    def _respond(self, req: Request, auth: str | None, rate_class: str | None) -> Response:
        cfg = self.config
        if rate_class == "blob":
            fault = self.faults.take(GENERIC_KINDS, req.method, req.path)
            return faulted(fault, lambda: self.api.blob(req))
        if rate_class is None:
            return error(404)
        if auth != f"Bearer {cfg.token}":
            return error(401)
        classes = (rate_class, "doc_content_writes") if is_page_write(req) else (rate_class,)
        if not self.limiter.allow_all(cfg.token, classes):
            return error(429)  # no Retry-After, no X-RateLimit-* (NOTES §9)
        fault = self.faults.take(GENERIC_KINDS, req.method, req.path)
        return faulted(fault, lambda: self.api.handle(req))
