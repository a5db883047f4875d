"""A mangling proxy in front of the fake Coda API: real HTTP, some answers made hostile.

`Mangler(fake, rules)` listens on 127.0.0.1 and forwards every request to the fake. Export
status answers get their `downloadLink` pointed at the proxy, so downloads come through it
too. A `Rule` (method, a regex searched in the path) replaces the upstream answer with
what its `make` returns: a `Reply` whose body may be bytes, or pieces sent with a pause,
with or without a Content-Length (without: the connection closes when it ends).

The modes below are what issue #12's campaign saw: gzip bombs, endless and padded bodies,
bodies cut short, bytes that are not UTF-8, trickles, links and redirects elsewhere, and
API objects whose fields are not what the spec says.
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import json
import re
import threading
import time
import typing as t
import zlib
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

FORWARDED = ("Authorization", "X-Coda-Doc-Version", "Content-Type", "User-Agent")
KEPT = ("Content-Type", "Content-Encoding", "Location", "Retry-After")


@dataclass
class Upstream:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> t.Any:
        return json.loads(self.body)

    def text(self) -> bytes:
        """The body, gunzipped when it came gzip-encoded (downloads)."""
        if self.headers.get("content-encoding") == "gzip":
            return gzip.decompress(self.body)
        return self.body


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | t.Iterable[bytes] = b""
    length: int | None = None  # Content-Length sent; None with bytes: their length
    pause: float = 0.0  # seconds before each piece of an iterable body


@dataclass
class Rule:
    path_re: str
    make: t.Callable[[Upstream], Reply]
    method: str | None = "GET"
    hits: int = 0


class Mangler:
    def __init__(self, fake: FakeCoda, rules: t.Sequence[Rule] = ()) -> None:
        self.fake, self.rules = fake, list(rules)
        self.upstream = re.sub(r"/apis/v1$", "", fake.url)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = f"{self.origin}/apis/v1"

    def __enter__(self) -> Mangler:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Upstream:
        host, port = self.upstream.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            answer = conn.getresponse()
            got = Upstream(
                answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
            )
        finally:
            conn.close()
        if b'"downloadLink"' in got.body:  # downloads come through the proxy too
            status = got.json()
            status["downloadLink"] = status["downloadLink"].replace(self.upstream, self.origin)
            got.body = json.dumps(status).encode()
        return got

    def reply_for(self, method: str, path: str, upstream: Upstream) -> Reply:
        for rule in self.rules:
            if rule.method in (None, method) and re.search(
                rule.path_re, path.split("?", maxsplit=1)[0]
            ):
                rule.hits += 1
                return rule.make(upstream)
        kept = [(k, v) for k in KEPT if (v := upstream.headers.get(k.lower()))]
        return Reply(upstream.status, kept, upstream.body)


def _handler(proxy: Mangler) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, *args: t.Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k in FORWARDED if (v := self.headers.get(k))}
            upstream = proxy.forward(self.command, self.path, headers, body)
            self._send(proxy.reply_for(self.command, self.path, upstream))

        def _send(self, reply: Reply) -> None:
            body = reply.body
            length = len(body) if isinstance(body, bytes) and reply.length is None else reply.length
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if length is None:
                self.close_connection = True
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            pieces = [body] if isinstance(body, bytes) else body
            try:
                for piece in pieces:
                    if reply.pause:
                        time.sleep(reply.pause)
                    self.wfile.write(piece)
                self.wfile.flush()
            except OSError:  # the client stopped reading: what the test wants
                self.close_connection = True
            if isinstance(body, bytes) and length is not None and length > len(body):
                self.close_connection = True  # a body cut short: the connection ends

    return Handler


# -- modes -------------------------------------------------------------------------------------

TEXT = ("Content-Type", "text/plain; charset=utf-8")
GZIP = ("Content-Encoding", "gzip")
JSON = ("Content-Type", "application/json; charset=utf-8")


@cache
def gzip_bomb(inflated: int = 1 << 28) -> bytes:
    """A small gzip stream of `inflated` zero bytes (256 MiB, four times the default cap, in
    about 256 kB; made once, before a run asks for it)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join(pack.compress(zeros) for _ in range(inflated >> 20)) + pack.flush()


def bomb(_: Upstream) -> Reply:
    return Reply(200, [TEXT, GZIP], gzip_bomb())


def endless(up: Upstream) -> Reply:
    """The upstream answer's start, then spaces for ever (no Content-Length)."""
    kind = ("Content-Type", up.headers.get("content-type", "text/plain"))
    start = up.text()[:1]
    return Reply(200, [kind], itertools.chain([start], itertools.repeat(b" " * 65536)))


def padded(size: int) -> t.Callable[[Upstream], Reply]:
    """The upstream JSON padded with whitespace to `size` bytes (a valid, huge answer)."""

    def make(up: Upstream) -> Reply:
        pad = size - len(up.body)
        chunks = itertools.repeat(b" " * (1 << 20), pad >> 20)
        return Reply(
            200, [JSON], itertools.chain([up.body], chunks, [b" " * (pad % (1 << 20))]), size
        )

    return make


def cut_short(up: Upstream) -> Reply:
    """The first half of the answer, then the connection closes (Content-Length says all)."""
    kept = [(k, v) for k in KEPT if (v := up.headers.get(k.lower()))]
    return Reply(up.status, kept, up.body[: len(up.body) // 2], length=len(up.body))


#: Bytes that are not UTF-8 (Latin-1 "café" and a lone 0xFF), put at the export's start.
NOT_UTF8 = b"caf\xe9 \xff "


def not_utf8(up: Upstream) -> Reply:
    return Reply(200, [TEXT, GZIP], gzip.compress(NOT_UTF8 + up.text(), mtime=0))


def trickle(pause: float) -> t.Callable[[Upstream], Reply]:
    """The real download, one byte every `pause` seconds."""

    def make(up: Upstream) -> Reply:
        pieces = (up.body[i : i + 1] for i in range(len(up.body)))
        return Reply(200, [TEXT, GZIP], pieces, len(up.body), pause)

    return make


def link_to(url: str) -> t.Callable[[Upstream], Reply]:
    """An export status whose downloadLink is `url` (formatted with the link's `path`)."""

    def make(up: Upstream) -> Reply:
        status = up.json()
        if "downloadLink" in status:
            path = "/" + status["downloadLink"].split("/", 3)[3]
            status["downloadLink"] = url.format(path=path)
        return Reply(up.status, [JSON], json.dumps(status).encode())

    return make


def redirect_to(url: str) -> t.Callable[[Upstream], Reply]:
    def make(_: Upstream) -> Reply:
        return Reply(302, [("Location", url)], b"")

    return make


#: A field the spec does not allow to be missing, removed instead of replaced.
MISSING = object()


def mutate(object_id: str, field: str, value: object) -> t.Callable[[Upstream], Reply]:
    """Every object with this `id` in an API answer (listed or alone) gets `field` = `value`
    (`MISSING`: the field removed)."""

    def change(obj: t.Any) -> None:
        if isinstance(obj, dict) and obj.get("id") == object_id:
            if value is MISSING:
                obj.pop(field, None)
            else:
                obj[field] = value

    def make(up: Upstream) -> Reply:
        if object_id.encode() not in up.body or up.status != 200:
            return Reply(up.status, [JSON], up.body)
        body = up.json()
        change(body)
        for item in body.get("items") or ():
            change(item)
        return Reply(up.status, [JSON], json.dumps(body).encode())

    return make
