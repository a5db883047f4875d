"""Images and attachments: the files a doc refers to on Coda's asset host.

The workspace holds the ground truth (`Workspace.assets`: key -> `AssetFile`) and refers
to a file by the placeholder `coda-asset:<key>` in page Markdown/HTML, a page's cover
`image.browserLink` and row cells. The API replaces each placeholder as it answers with a
signed link to the asset host, valid `asset_link_ttl` seconds (Coda's are short-lived), so
every answer carries fresh links and a stored one expires.

The asset host is a listener of its own on 127.0.0.1 (its own port: the tap must treat it
as another host and never send it the API token). `elsewhere` is a second listener that
stands for a host no backup may contact: one asset redirects there. Both log every request
with whether it carried an `Authorization` header.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

PLACEHOLDER = re.compile(rb"coda-asset:([A-Za-z0-9_-]+)")
BLOBS = "/blobs/"
CHUNK = 64 * 1024
_SECRET = b"fake-asset-host"


@dataclass
class AssetFile:
    key: str
    name: str  # the file name in the URL (hostile ones included)
    content_type: str
    data: bytes = b""
    size: int = 0  # > len(data): a large file, `data` repeated (never held whole)
    #: "ok"; "missing" (404); "redirect" (302 to a host no backup may contact);
    #: "expired" (every link it gets is already past its time)
    behaviour: str = "ok"

    @property
    def length(self) -> int:
        return max(self.size, len(self.data))

    def chunks(self) -> Any:
        """The file's bytes, CHUNK at a time (a large one is never in memory)."""
        left, unit = self.length, self.data or b"\0"
        block = unit * max(1, CHUNK // len(unit))
        while left > 0:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            yield piece

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for piece in self.chunks():
            digest.update(piece)
        return digest.hexdigest()


@dataclass(frozen=True)
class AssetHit:
    path: str
    status: int
    authorization: bool  # whether the request carried an Authorization header


def _signature(key: str, expires: int) -> str:
    return hmac.new(_SECRET, f"{key}:{expires}".encode(), hashlib.sha256).hexdigest()[:20]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Listener

    def do_GET(self) -> None:
        self.server.owner.serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the listener keeps its own log."""


class _Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: AssetHost) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


@dataclass
class AssetHost:
    """The asset host (or, with no files, the host nobody may contact), on loopback."""

    files: dict[str, AssetFile]
    link_ttl: float = 300.0
    redirect_to: str = ""  # where "redirect" assets point
    log: list[AssetHit] = field(default_factory=list)
    _server: _Listener | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> AssetHost:
        self._server = _Listener(self)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, as the tap's `asset_hosts` setting names it."""
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    def link(self, key: str) -> str:
        asset = self.files[key]
        expires = int(time.time() + (-60 if asset.behaviour == "expired" else self.link_ttl))
        query = f"exp={expires}&sig={_signature(key, expires)}"
        return f"{self.origin}{BLOBS}{key}/{quote(asset.name, safe='')}?{query}"

    def sign(self, body: bytes) -> bytes:
        """Every placeholder of an answer replaced by a fresh signed link."""
        if b"coda-asset:" not in body:
            return body
        return PLACEHOLDER.sub(lambda m: self.link(m.group(1).decode()).encode(), body)

    # ---- serving -----------------------------------------------------------------------------

    def serve(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        key = (
            unquote(parts.path[len(BLOBS) :].split("/", 1)[0])
            if parts.path.startswith(BLOBS)
            else ""
        )
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        asset = self.files.get(key)
        status = self._status(asset, key, query)
        with self._lock:
            self.log.append(
                AssetHit(parts.path, status, "authorization" in {k.lower() for k in h.headers})
            )
        if status == 302:
            h.send_response(302)
            h.send_header("Location", f"{self.redirect_to}/stolen/{key}")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if status != 200 or asset is None:
            body = b"<Error><Code>AccessDenied</Code></Error>" if status == 403 else b"Not Found"
            h.send_response(status)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(200)
        h.send_header("Content-Type", asset.content_type)
        h.send_header("Content-Length", str(asset.length))
        h.end_headers()
        for piece in asset.chunks():
            h.wfile.write(piece)

    def _status(self, asset: AssetFile | None, key: str, query: dict[str, str]) -> int:
        if asset is None or asset.behaviour == "missing":
            return 404
        expires = int(query.get("exp", "0") or 0) if query.get("exp", "").isdigit() else 0
        if not hmac.compare_digest(query.get("sig", ""), _signature(key, expires)):
            return 403
        if time.time() > expires:
            return 403  # the link expired
        return 302 if asset.behaviour == "redirect" else 200
