"""HTTP for every Coda call: auth, paging, retries with jittered backoff, pacing, strict latest.

This is the one room for HTTP and rate limits. Every request of the tap, listed or ad hoc
(export start, export polls, `getTable`), goes through `CodaStream.call`/`request_records`,
so it is checked and paced by the run's `RateLimits` (sending.py, pacing.py), retried by
singer-sdk's backoff decorator and classified by `validate_response` (answers.py). Blob
downloads are the one exception: they go to a signed URL on another host and must never carry
the token (see `download_blob`).
"""

from __future__ import annotations

import threading
import typing as t
from functools import cached_property

import requests
from singer_sdk import RESTStream
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.pagination import JSONPathPaginator

from tap_coda import egress, httpsession
from tap_coda.answers import RETRY_STATUSES, check_answer, retry_reason
from tap_coda.answers import CodaAuthError as CodaAuthError  # noqa: PLC0414 - its old home
from tap_coda.answers import CodaClientError as CodaClientError  # noqa: PLC0414 - its old home
from tap_coda.answers import StaleDocError as StaleDocError  # noqa: PLC0414 - its old home
from tap_coda.bodies import keep_body, read_capped
from tap_coda.download import Limits, fetch_checked
from tap_coda.errors import CodaRequestError as CodaRequestError  # noqa: PLC0414 - its old home
from tap_coda.pacing import rate_class_of as rate_class_of  # noqa: PLC0414 - its old home
from tap_coda.redaction import register_secret
from tap_coda.responses import error_message, retry_wait
from tap_coda.responses import json_body as json_body  # noqa: PLC0414 - tap_coda.export's import
from tap_coda.responses import retry_after_seconds as retry_after_seconds  # noqa: PLC0414
from tap_coda.sending import guarded

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, RequestFunc
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_coda.ledger import RunLedger
    from tap_coda.services import Services


def table_path(doc_id: str, table_id: str) -> str:
    """`getTable`'s path, each id escaped."""
    return f"/docs/{egress.segment(doc_id)}/tables/{egress.segment(table_id)}"


#: Where every Coda listing keeps its objects.
ITEMS = "$.items[*]"


class NextPageTokenPaginator(JSONPathPaginator):
    """Follows `nextPageToken` until it is absent; remembers the last `nextSyncToken` seen."""

    def __init__(self) -> None:
        super().__init__("$.nextPageToken")
        self.next_sync_token: str | None = None

    def _read(self, response: requests.Response) -> str | None:
        body = json_body(response)
        if body.get("nextSyncToken"):
            self.next_sync_token = body["nextSyncToken"]
        return body.get("nextPageToken") or None

    def get_next(self, response: requests.Response) -> str | None:
        return self._read(response)

    def continue_if_empty(self, response: requests.Response) -> bool:
        # A short (even empty) page does not end a Coda list; only a missing token does.
        # singer-sdk stops on an empty page without `advance`, so read the body here too.
        return self._read(response) is not None


class CodaStream(RESTStream[str]):
    """Base stream: Coda's URL, bearer auth, paging, retries and pacing."""

    records_jsonpath = ITEMS
    #: Coda's list endpoints clamp `limit` silently; ask for a lot and follow tokens.
    page_size: int | None = 500
    extra_retry_statuses = RETRY_STATUSES
    #: An API answer is never followed elsewhere: the token goes to `api_url` only.
    allow_redirects = False

    def __init__(self, tap: Tap, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        super().__init__(tap)

    @property
    def requests_session(self) -> requests.Session:
        # One session per thread: exports and page listings run on worker threads.
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = httpsession.Session()
            session.hooks["response"].append(self._read_body)
        return session

    def _read_body(self, response: requests.Response, *_: t.Any, **__: t.Any) -> None:
        """A response hook (before requests reads the body): read it within `max_body_bytes`."""
        cap = self.settings.max_body_bytes
        keep_body(response, read_capped(response, limit=cap, what="the API answer"))

    @cached_property
    def _sessions(self) -> threading.local:
        return threading.local()

    @staticmethod
    def _url_encode(val: t.Any) -> str:
        # singer-sdk escapes only "/": every id in a path is one whole segment (egress.py).
        return egress.segment(val)

    @property
    def url_base(self) -> str:
        return self.settings.api_url.rstrip("/")

    @property
    def ledger(self) -> RunLedger:
        return self.services.ledger

    @cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        # Surrounding whitespace (a newline from `export CODA_API_TOKEN=$(cat f)`-style
        # pastes) is never part of a token; requests would refuse it in a header.
        given = self.services.api_token()
        token = given.strip()
        register_secret(token)
        register_secret(given)
        return BearerTokenAuthenticator(token=token)

    @property
    def timeout(self) -> float:  # type: ignore[override]  # requests takes float seconds
        """Seconds to wait for a connection or for the next bytes of an answer (per read)."""
        return float(self.settings.request_timeout)

    @property
    def http_headers(self) -> dict[str, t.Any]:
        headers = {"User-Agent": self.services.user_agent, "Accept": "application/json"}
        if self.settings.strict_latest:
            headers["X-Coda-Doc-Version"] = "latest"
        return headers

    def get_new_paginator(self) -> NextPageTokenPaginator:
        return NextPageTokenPaginator()

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        return {"limit": self.page_size} if self.page_size else {}

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if page.next_page_token:
            # The token encodes the original query; Coda ignores anything sent beside it.
            request.params = {"pageToken": page.next_page_token}
        return request

    # -- retries and pacing -------------------------------------------------------------

    def backoff_max_tries(self) -> int:
        return self.settings.max_retries + 1

    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        attempt = {"n": 0}

        def wait_for(exc: Exception) -> float:
            attempt["n"] += 1
            response = getattr(exc, "response", None)
            return retry_wait(attempt["n"], self.settings.backoff_base_seconds, response)

        return self.backoff_runtime(value=wait_for)

    def backoff_jitter(self, value: float) -> float:
        return value  # jitter is already in `wait_for`; Retry-After is waited as asked

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        self.logger.warning(
            "Retrying %s in %.1f s (attempt %d): %s",
            self.name,
            details.get("wait", 0.0),
            details.get("tries", 0),
            retry_reason(details.get("exception")),
        )

    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """singer-sdk's retries around `func`; each try checked and paced (sending.py)."""
        send = guarded(func, services=self.services, url_base=self.url_base, logger=self.logger)
        return super().request_decorator(send)

    def validate_response(self, response: requests.Response) -> None:
        self.services.api_reached = True  # an answer, whatever it says
        check_answer(
            response,
            strict_latest=self.settings.strict_latest,
            retry_statuses=self.extra_retry_statuses,
        )

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        body = json_body(response)
        if self.records_jsonpath == ITEMS and isinstance(body, dict):
            # Every Coda listing: skip the JSONPath machinery on the row path.
            yield from body.get("items") or ()
            return
        yield from extract_jsonpath(self.records_jsonpath, input=body)

    def response_error_message(self, response: requests.Response) -> str:
        return error_message(response)

    # -- ad hoc requests (same pacing, retries and classification as listings) -----------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, t.Any] | None = None,
        json: dict[str, t.Any] | None = None,
        context: Context | None = None,
    ) -> requests.Response:
        """One API request outside the paginated listing, e.g. `getTable` or an export."""
        url = f"{self.url_base}{path}"
        prepared = self.build_prepared_request(
            method=method, url=url, params=params or {}, headers=self.http_headers, json=json
        )
        return self.request_decorator(self._request)(prepared, context)

    def download_blob(
        self, url: str, deadline: float | None = None, into: t.BinaryIO | None = None
    ) -> requests.Response:
        """GET a signed export link: no token (it is another host), no rate class, retried;
        only to the hosts `download_hosts` allows (egress.py), redirects included; read up
        to `max_download_bytes` once decoded, and only until `deadline` (monotonic); into
        the file `into` when given (tap_coda.download).

        What comes back is checked before it can become a page file: a gzip body must be
        a whole gzip stream (a cut one decodes silently to a prefix of the page), and an
        HTML page that is not gzip-encoded is a proxy's error page (Coda's blob host sends
        exports gzip-encoded, NOTES.md §4); both are retried like a 5xx or a 429.
        """
        limits = Limits(self.settings.max_download_bytes, deadline)

        def fetch(
            _request: requests.PreparedRequest, _context: Context | None
        ) -> requests.Response:
            return fetch_checked(
                self.services.blob_session,
                url,
                timeout=self.timeout,
                refusal=self.link_refusal,
                limits=limits,
                into=into,
            )

        if reason := self.link_refusal(url):
            raise CodaRequestError(reason)
        # singer-sdk's retries without pacing: the link's host is not Coda's API.
        retried = super().request_decorator(fetch)
        return retried(requests.Request("GET", url).prepare(), None)

    def link_refusal(self, url: str) -> str | None:
        """Why a link Coda handed out must not be fetched (egress.py); None when it may."""
        return egress.refusal(
            url, allowed_hosts=self.settings.download_hosts, api_url=self.settings.api_url
        )
