"""Reading an answer's body within bounds: a byte cap on what it decodes to, and a deadline.

The cap is enforced while reading, never after: a gzip bomb stops inflating at the cap, an
endless body stops arriving at it, and memory never holds more than the cap. A deadline
(a page export's, tap_coda.export) is checked after every read; each read itself waits at
most the request timeout, so a trickle of one byte every few seconds ends at the deadline.
"""

from __future__ import annotations

import time
import typing as t
import zlib

import requests
import urllib3.exceptions

from tap_coda.errors import CodaRequestError

__all__ = ["BodyLimitError", "read_capped", "stream_capped"]

#: Bytes asked for per read (a read returns what has arrived, up to this).
CHUNK = 256 * 1024


class BodyLimitError(CodaRequestError):
    """The body went past its byte cap or its deadline: that object fails (not retried)."""


class CutShortError(requests.exceptions.ChunkedEncodingError):
    """The body ended before it was whole (retried like a dropped connection)."""


def _inflater(encoding: str) -> t.Any:
    if encoding in {"gzip", "x-gzip", "deflate"}:
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, detected
    return None


def _inflate(inflater: t.Any, data: bytes, room: int) -> bytes:
    """What `data` inflates to, at most `room + 1` bytes (over: the cap is hit) and at most
    a chunk at a time (the rest stays in `unconsumed_tail`), so memory holds the body only."""
    try:
        out = inflater.decompress(data, min(room + 1, CHUNK))
    except zlib.error as exc:
        raise CutShortError(f"body is not valid gzip: {exc}") from None
    return bytes(out)


def read_capped(
    response: requests.Response,
    *,
    limit: int,
    what: str,
    deadline: float | None = None,
    clock: t.Callable[[], float] = time.monotonic,
) -> bytes:
    """The decoded body of a streamed `response`, or `BodyLimitError` past `limit` bytes or
    `deadline` (on `clock`); `CutShortError` when it ends before it is whole."""
    body = bytearray()
    stream_capped(response, body.extend, limit=limit, what=what, deadline=deadline, clock=clock)
    return bytes(body)


def stream_capped(
    response: requests.Response,
    write: t.Callable[[bytes], object],
    *,
    limit: int,
    what: str,
    deadline: float | None = None,
    clock: t.Callable[[], float] = time.monotonic,
) -> int:
    """Pass the decoded body of a streamed `response` to `write` a chunk at a time (a file's
    write: memory holds a chunk, not the body) and return its size; raises as `read_capped`."""
    declared = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    inflater = _inflater(encoding)
    if inflater is None and declared.isdigit() and int(declared) > limit:
        raise BodyLimitError(f"{what} is {int(declared):,} bytes, over the cap of {limit:,}")
    size = 0
    over = f"{what} goes past the cap of {limit:,} bytes"
    raw, let_urllib3_decode = response.raw, inflater is None and bool(encoding)
    try:
        while chunk := raw.read1(CHUNK, decode_content=let_urllib3_decode):
            if inflater is None:
                size += len(chunk)
                if size > limit:
                    raise BodyLimitError(over)
                write(chunk)
            while inflater is not None and chunk:
                out = _inflate(inflater, chunk, limit - size)
                size += len(out)
                if size > limit:
                    raise BodyLimitError(over)
                write(out)
                chunk = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
                if inflater.eof and chunk:
                    inflater = _inflater(encoding)  # the next gzip member
            if deadline is not None and clock() > deadline:
                raise BodyLimitError(f"{what} still arriving at its deadline ({size:,} bytes)")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise CutShortError(f"{what} cut off: {exc}") from None
    while inflater is not None and not inflater.eof:  # output zlib still holds
        if not (out := _inflate(inflater, inflater.unconsumed_tail, limit - size)):
            raise CutShortError(f"{what} cut short: incomplete gzip stream")
        size += len(out)
        if size > limit:
            raise BodyLimitError(over)
        write(out)
    return size


def keep_body(response: requests.Response, body: bytes) -> None:
    """Make `body` the response's `content`, as requests would have read it."""
    # requests has no public way to set a body read by hand.
    response._content = body  # noqa: SLF001
    response._content_consumed = True  # type: ignore[attr-defined]  # noqa: SLF001
