"""HTTP on the wire for the fake: a ThreadingHTTPServer whose handler passes every request
to `FakeCoda._serve`, and the writing of each `Response`.

Responses go out in one write with Content-Length on HTTP/1.1 keep-alive connections and
TCP_NODELAY, so thousands of requests a second are possible (benchmarks). A generic fault
(faults.py) is shaped here too: its answer (`faulted`) and how it is delivered badly
(`write_response`: a reset, a hang-up, a slow or a cut body).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from fakecoda.protocol import Response, error

if TYPE_CHECKING:
    from fakecoda.faults import Fault
    from fakecoda.server import FakeCoda

logger = logging.getLogger(__name__)

NON_JSON_BODY = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center>"
    b"<h1>502 Bad Gateway</h1></center><hr><center>cloudfront</center></body></html>\n"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: FakeCoda

    def __init__(self, address: tuple[str, int], fake: FakeCoda) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-fault is expected; keep it out of pytest's way.
        logger.debug("connection error from %s: %s", client_address, sys.exc_info()[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeCoda/1.0"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_PUT(self) -> None:
        self.server.fake._serve(self)

    def do_PATCH(self) -> None:
        self.server.fake._serve(self)

    def do_DELETE(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def faulted(fault: Fault | None, real: Callable[[], Response]) -> Response:
    """The answer a generic fault gives instead of (or on top of) `real()`."""
    if fault is None:
        return real()
    kind = fault.kind
    if kind in ("status", "429"):
        resp = error(fault.status or 500) if kind == "status" else error(429)
        if fault.retry_after is not None:
            resp.headers.append(("Retry-After", f"{fault.retry_after:g}"))
    elif kind in ("reset", "timeout"):
        resp = Response(0, b"")
    elif kind == "non_json":
        resp = Response(200, NON_JSON_BODY, "text/html; charset=utf-8")
    else:  # "slow_body", "truncate": the real answer, delivered badly
        resp = real()
    resp.fault, resp.delay = kind, fault.delay
    return resp


@functools.lru_cache(maxsize=1)
def http_date(second: int) -> str:
    """The `Date` header for a second since the epoch (formatted once per second)."""
    return formatdate(second, usegmt=True)


def write_response(h: _Handler, resp: Response, latency: float = 0.0) -> None:
    """Send `resp` in one write (or as its fault says: reset, hang up, slowly, cut short)."""
    if latency > 0:
        time.sleep(latency)
    conn = h.connection
    try:
        if resp.fault == "reset":
            # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer".
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            conn.close()
            return
        if resp.fault == "timeout":
            time.sleep(resp.delay)  # longer than the client waits; then hang up
            h.close_connection = True
            conn.shutdown(socket.SHUT_RDWR)
            return
        body = resp.body
        if resp.fault == "truncate":
            body = body[: len(body) // 2]  # a 200 whose JSON stops halfway
        try:
            phrase = HTTPStatus(resp.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            f"HTTP/1.1 {resp.status} {phrase}",
            f"Server: {h.server_version}",
            f"Date: {http_date(int(time.time()))}",
            f"Content-Type: {resp.content_type}",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in resp.headers),
        ]
        if h.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if resp.fault == "slow_body":
            h.wfile.write(head)
            pieces = 10
            step = max(1, -(-len(body) // pieces))
            for i in range(0, max(len(body), 1), step):
                time.sleep(resp.delay / pieces)
                h.wfile.write(body[i : i + step])
        else:
            h.wfile.write(head + body)
    except OSError:
        h.close_connection = True
        logger.debug("client went away during %s %s", h.command, h.path)
