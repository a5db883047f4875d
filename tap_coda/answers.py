"""What one of Coda's answers means: pass, fail for good, or try again (pure decisions).

`CodaStream.validate_response` asks `check_answer` after every try; singer-sdk's backoff
retries what it raises as `RetriableAPIError` and gives up on the rest. `retry_reason` is
the few words the retry log line shows.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_coda.redaction import redact
from tap_coda.responses import error_message, parse_json_or_retry

if t.TYPE_CHECKING:
    import requests

__all__ = [
    "RETRY_STATUSES",
    "CodaAuthError",
    "CodaClientError",
    "StaleDocError",
    "check_answer",
    "retry_reason",
]

#: Retried besides every 5xx: Coda's rate limit.
RETRY_STATUSES = (HTTPStatus.TOO_MANY_REQUESTS,)


class CodaAuthError(Exception):
    """The token is missing, invalid or revoked: nothing can be backed up."""


class CodaClientError(FatalAPIError):
    """A 4xx that retrying cannot fix (403, 404, 410, a refused sync token…)."""

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class StaleDocError(RetriableAPIError):
    """`X-Coda-Doc-Version: latest` was refused: the doc's snapshot is behind (retried)."""


def check_answer(
    response: requests.Response,
    *,
    strict_latest: bool,
    retry_statuses: t.Collection[int] = RETRY_STATUSES,
) -> None:
    """Raise what `response` means unless it is a 2xx with a whole JSON body (then parsed
    once and kept for `json_body`)."""
    status = response.status_code
    if status == HTTPStatus.UNAUTHORIZED:
        msg = "Coda rejected the API token (401 Unauthorized): check CODA_API_TOKEN or --token-file"
        raise CodaAuthError(msg)
    if status == HTTPStatus.BAD_REQUEST and strict_latest:
        message = error_message(response)
        if "not yet up to date" in message.lower():
            raise StaleDocError(message, response)
    if HTTPStatus.MULTIPLE_CHOICES <= status < HTTPStatus.BAD_REQUEST:
        where = response.headers.get("Location", "nowhere")[:200]
        msg = f"{status} redirect to {where} refused: the token goes only to api_url"
        raise CodaClientError(msg, response)
    if status in retry_statuses or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        raise RetriableAPIError(error_message(response), response)
    if status >= HTTPStatus.BAD_REQUEST:
        raise CodaClientError(error_message(response), response)
    parse_json_or_retry(response)


def retry_reason(exc: BaseException | None) -> str:
    """Why a try is retried, in a few words: the HTTP status, or what was wrong with a 2xx
    body, or the exception's kind (a dropped connection)."""
    response = getattr(exc, "response", None)
    if response is None:
        return type(exc).__name__
    if response.ok:  # a 2xx whose body was bad: say how
        return redact(str(exc))
    return f"HTTP {response.status_code}"
