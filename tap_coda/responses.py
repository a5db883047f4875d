"""Reading Coda's answers: JSON bodies (parsed once), error lines, `Retry-After`."""

from __future__ import annotations

import decimal
import email.utils
import random
import time
import typing as t
from urllib.parse import urlparse

import msgspec
import requests
from singer_sdk.exceptions import RetriableAPIError

__all__ = [
    "decode_json",
    "error_message",
    "json_body",
    "parse_json_or_retry",
    "retry_after_seconds",
    "retry_wait",
]

#: Waits between retries grow as base * 2**n (jittered; base: `backoff_base_seconds`),
#: capped: Coda's staff advise tens of seconds to minutes for jobs that keep seeing 429s.
BACKOFF_CAP_SECONDS = 120.0


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """`Retry-After` as seconds (delta or HTTP date), if the server sent one."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))  # seconds (RFC 9110: an integer; a fraction is read too)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_wait(attempt: int, base: float, response: requests.Response | None) -> float:
    """Seconds before retry `attempt` (1, 2, …): `Retry-After` when the server sent one,
    else base * 2**(attempt-1), capped, jittered over its upper half so many workers spread.
    The tap's retries and coda-backup restore's share it."""
    server_says = retry_after_seconds(response)
    if server_says is not None:
        return min(server_says, BACKOFF_CAP_SECONDS * 5)
    ceiling = min(BACKOFF_CAP_SECONDS, base * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def error_message(response: requests.Response) -> str:
    """One line for a failed response: status, reason and Coda's `message` (never headers)."""
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("message") or body.get("statusMessage") or "")
    except ValueError:
        detail = response.text[:200]
    path = urlparse(response.url).path
    line = f"{response.status_code} {response.reason} for {path}"
    return f"{line}: {detail}" if detail else line


#: Parses a response body several times faster than `requests`' json; fractions become
#: Decimal (as singer-sdk's own parsing does), so a value is written back digit for digit.
_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


def decode_json(body: bytes) -> t.Any:
    """JSON of a response body; ValueError when it is not JSON."""
    try:
        return _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None


def json_body(response: requests.Response) -> t.Any:
    """The response's JSON, parsed once by `validate_response` (fractions as Decimal)."""
    body = getattr(response, "_coda_json", None)
    return body if body is not None else decode_json(response.content)


def parse_json_or_retry(response: requests.Response) -> None:
    """Parse a 2xx body once and keep it for `json_body`; a body that is not whole JSON (a
    proxy's HTML page, a body cut short that still matches its Content-Length) is retried."""
    try:
        # Our own attribute on the response; nothing of requests' is touched.
        response._coda_json = decode_json(response.content)  # type: ignore[attr-defined]  # noqa: SLF001
    except ValueError:
        body = response.content
        kind = "truncated JSON" if body.lstrip()[:1] in (b"{", b"[") else "non-JSON"
        msg = f"{kind} body ({len(body)} bytes) for {urlparse(response.url).path}"
        raise RetriableAPIError(msg, response) from None
