"""Checks on a downloaded page export: a body that is not whole never becomes a page file."""

from __future__ import annotations

import zlib
from http import HTTPStatus

import requests
import urllib3.exceptions
from singer_sdk.exceptions import RetriableAPIError


def read_checked_body(response: requests.Response) -> None:
    """Read a streamed download into `response.content`, refusing bodies that are not whole."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    try:
        if encoding != "gzip":
            body = response.content  # requests reads and decodes it
            kind = response.headers.get("Content-Type", "").lower()
            if response.ok and kind.startswith("text/html"):
                msg = f"the download link answered an HTML page, not the export ({len(body)} bytes)"
                raise RetriableAPIError(msg, response)
            return
        raw = response.raw.read(decode_content=False)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(f"download cut off: {exc}") from None
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflate.decompress(raw) + inflate.flush()
    except zlib.error as exc:
        raise RetriableAPIError(f"download is not valid gzip: {exc}", response) from None
    if not inflate.eof:
        msg = f"download cut short: incomplete gzip stream ({len(raw)} bytes)"
        raise RetriableAPIError(msg, response)
    # What requests would have decoded, now known to be whole: requests has no public way
    # to set a body read by hand (tests/e2e/test_faults.py, the cut-gzip download cases).
    response._content = body  # noqa: SLF001
    response._content_consumed = True  # type: ignore[attr-defined]  # noqa: SLF001


def fetch_checked(session: requests.Session, url: str, *, timeout: float) -> requests.Response:
    """GET a signed export link and check its body; 5xx, 429 and bodies that are not whole
    raise `RetriableAPIError` (the caller retries)."""
    response = session.get(url, timeout=timeout, stream=True)
    try:
        read_checked_body(response)
    finally:
        response.close()
    status = response.status_code
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or status == HTTPStatus.TOO_MANY_REQUESTS:
        raise RetriableAPIError(f"{status} from the download link", response)
    return response
