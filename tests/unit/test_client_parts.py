"""Pure pieces of the tap's HTTP room: paging, `Retry-After`, what an answer means, the export
state machine, and the pacing file's name and place. No server: responses are built by hand."""

from __future__ import annotations

import email.utils
import json
import logging
import re
import tempfile
import time
import types
import typing as t
from pathlib import Path

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_coda import export
from tap_coda.answers import CodaAuthError, StaleDocError, check_answer, retry_reason
from tap_coda.client import (
    CodaClientError,
    CodaRequestError,
    NextPageTokenPaginator,
    retry_after_seconds,
)
from tap_coda.pacing import RateLimits, build_rate_limits, default_pacing_dir, pacing_file
from tap_coda.responses import json_body


def response(
    status: int = 200, body: t.Any = None, headers: dict[str, str] | None = None
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    resp.headers.update(headers or {})
    resp.url = "https://coda.io/apis/v1/docs"
    return resp


# -- NextPageTokenPaginator --------------------------------------------------------------------


def test_paginator_follows_next_page_token_and_remembers_the_last_sync_token() -> None:
    paginator = NextPageTokenPaginator()
    pages = [
        {"items": [1], "nextPageToken": "p2"},
        {"items": [], "nextPageToken": "p3", "nextSyncToken": "s-early"},
        {"items": [2], "nextSyncToken": "s-last"},
    ]
    tokens = []
    for body in pages:
        paginator.advance(response(body=body))
        tokens.append(None if paginator.finished else paginator.current_value)
    assert tokens == ["p2", "p3", None]  # the page without a token ends the list
    assert paginator.next_sync_token == "s-last"


def test_an_empty_page_with_a_token_does_not_end_the_list() -> None:
    paginator = NextPageTokenPaginator()
    assert paginator.continue_if_empty(response(body={"items": [], "nextPageToken": "p2"}))
    assert not paginator.continue_if_empty(response(body={"items": []}))
    assert paginator.get_next(response(body={"nextPageToken": ""})) is None


# -- retry_after_seconds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), ("1.5", 1.5), ("0", 0.0), ("-3", 0.0)],
)
def test_retry_after_in_seconds(header: str, seconds: float) -> None:
    assert retry_after_seconds(response(429, headers={"Retry-After": header})) == seconds


def test_retry_after_as_an_http_date_is_the_time_until_it() -> None:
    when = time.time() + 30
    value = email.utils.formatdate(when, usegmt=True)
    waited = retry_after_seconds(response(503, headers={"Retry-After": value}))
    assert waited is not None
    assert when - time.time() - 1 <= waited <= when - time.time()  # the date has 1 s steps
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert retry_after_seconds(response(503, headers={"Retry-After": past})) == 0.0


@pytest.mark.parametrize("headers", [{}, {"Retry-After": ""}, {"Retry-After": "soon"}])
def test_no_or_unreadable_retry_after_is_none(headers: dict[str, str]) -> None:
    assert retry_after_seconds(response(429, headers=headers)) is None
    assert retry_after_seconds(None) is None


# -- what an answer means (answers.check_answer) ----------------------------------------------

STALE = {"message": "The doc is not yet up to date with the latest version"}


@pytest.mark.parametrize(
    ("answer", "strict_latest", "raised"),
    [
        (response(401), False, CodaAuthError),
        (response(400, STALE), True, StaleDocError),
        (response(400, STALE), False, CodaClientError),
        (
            response(302, headers={"Location": "https://elsewhere.example/x"}),
            False,
            CodaClientError,
        ),
        (response(429), False, RetriableAPIError),
        (response(503), False, RetriableAPIError),
        (response(404), True, CodaClientError),
        (response(200, b"<html>proxy</html>"), False, RetriableAPIError),
        (response(200, b'{"items": ['), False, RetriableAPIError),
    ],
)
def test_each_answer_fails_for_good_or_is_retried(
    answer: requests.Response, strict_latest: bool, raised: type[Exception]
) -> None:
    with pytest.raises(raised) as caught:
        check_answer(answer, strict_latest=strict_latest)
    assert type(caught.value) is raised
    assert retry_reason(caught.value) != ""


def test_a_whole_json_answer_passes_and_is_parsed_once() -> None:
    answer = response(200, {"items": [{"id": "d1"}]})
    assert check_answer(answer, strict_latest=True) is None
    assert json_body(answer) == {"items": [{"id": "d1"}]}
    assert json_body(answer) is json_body(answer)  # kept, not parsed again


def test_a_redirect_is_refused_and_the_retry_reason_says_what_came() -> None:
    with pytest.raises(
        CodaClientError, match=re.escape("redirect to https://elsewhere.example/x refused")
    ):
        check_answer(
            response(307, headers={"Location": "https://elsewhere.example/x"}), strict_latest=False
        )
    assert retry_reason(RetriableAPIError("503", response(503))) == "HTTP 503"
    assert retry_reason(ConnectionError("reset")) == "ConnectionError"
    cut = RetriableAPIError("truncated JSON body (12 bytes) for /docs", response(200))
    assert retry_reason(cut) == "truncated JSON body (12 bytes) for /docs"


# -- the export state machine ------------------------------------------------------------------


class Script:
    """A stand-in for the stream `export_page` drives: answers from a list, one per call, and
    a clock that moves only when the export sleeps."""

    def __init__(
        self, answers: t.Sequence[requests.Response | Exception], blobs: list[bytes]
    ) -> None:
        self.answers, self.blobs = list(answers), blobs
        self.calls: list[tuple[str, str]] = []
        self.sleeps: list[float] = []
        self.now = 0.0
        self.logger = logging.getLogger("test-export")
        #: where export_page puts its download (a folder of the OS's; each file is removed)
        self.services = types.SimpleNamespace(work_dir=lambda: Path(tempfile.gettempdir()))

    def call(self, method: str, path: str, **_: t.Any) -> requests.Response:
        self.calls.append((method, path))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def download_blob(
        self, url: str, deadline: float | None = None, into: t.BinaryIO | None = None
    ) -> requests.Response:
        """Like `CodaStream.download_blob`: the body into `into`, its head as `content`."""
        self.calls.append(("BLOB", url))
        blob = self.blobs.pop(0)
        assert into is not None
        into.write(blob)
        return response(200, blob[:4096])

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def run(self, timeout_s: float = 60, poll_scale: float = 1.0) -> str:
        return export.export_page(
            self,  # type: ignore[arg-type]
            "d-1",
            "p-1",
            "markdown",
            timeout_s=timeout_s,
            first_wait_s=0.5,
            poll_scale=poll_scale,
            sleep=self.sleep,
            clock=self.clock,
        )


STARTED = response(202, {"id": "req-1", "status": "inProgress"})
PENDING = response(200, {"status": "inProgress"})
DONE = response(200, {"status": "complete", "downloadLink": "https://blob/1"})
XML_ERROR = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>'


def not_yet() -> CodaClientError:
    return CodaClientError("404 Not Found", response(404))


def test_early_404s_then_pending_then_done_polls_on_the_schedule() -> None:
    script = Script([STARTED, not_yet(), PENDING, PENDING, PENDING, PENDING, DONE], [b"# Page"])
    assert script.run(poll_scale=0.5) == "# Page"
    assert script.calls[0] == ("POST", "/docs/d-1/pages/p-1/export")
    assert set(script.calls[1:-1]) == {("GET", "/docs/d-1/pages/p-1/export/req-1")}
    assert script.calls[-1] == ("BLOB", "https://blob/1")
    # the first wait, then one per poll that found nothing: quick at first, then steady
    schedule = [s * 0.5 for s in export.POLL_SCHEDULE]
    assert script.sleeps == [0.5, *schedule, schedule[-1]]


def test_the_deadline_is_kept_by_the_injected_clock() -> None:
    script = Script([STARTED] + [PENDING] * 50, [])
    with pytest.raises(CodaRequestError, match="did not finish within 5 s"):
        script.run(timeout_s=5)
    assert 5 < script.now <= 5 + max(export.POLL_SCHEDULE)


def test_a_failed_export_says_why() -> None:
    script = Script([STARTED, response(200, {"status": "failed", "error": "too big"})], [])
    with pytest.raises(CodaRequestError, match="export failed: too big"):
        script.run()


def test_a_dead_link_is_replaced_by_polling_again_a_few_times_then_given_up() -> None:
    script = Script([STARTED, DONE, DONE], [XML_ERROR, b"fresh"])
    assert script.run() == "fresh"
    refreshes = export.MAX_LINK_REFRESHES
    script = Script([STARTED] + [DONE] * (refreshes + 1), [XML_ERROR] * (refreshes + 1))
    with pytest.raises(CodaRequestError, match="download link kept failing"):
        script.run()


def test_404s_that_never_end_and_other_errors_are_raised() -> None:
    script = Script([STARTED] + [not_yet() for _ in range(30)], [])
    with pytest.raises(CodaClientError):
        script.run(timeout_s=10_000)
    assert sum(1 for method, _ in script.calls if method == "GET") == 22  # 21 tolerated
    forbidden = CodaClientError("403 Forbidden", response(403))
    with pytest.raises(CodaClientError, match="403"):
        Script([STARTED, forbidden], []).run()


def test_xml_error_bodies_are_told_from_content() -> None:
    assert export.is_xml_error(XML_ERROR)
    assert not export.is_xml_error(b"# <Error> in a heading\n<Code>x</Code>")
    assert not export.is_xml_error(b"<html><body>page</body></html>")


# -- the pacing file -----------------------------------------------------------------------------


def test_the_pacing_file_is_named_by_token_and_api_never_by_the_token(tmp_path: t.Any) -> None:
    token = "tok-PACING-sEcReT"
    one = pacing_file(tmp_path, "https://coda.io/apis/v1", token)
    assert token not in str(one)
    assert one == pacing_file(tmp_path, "https://coda.io/apis/v1/", token)  # same API
    assert one != pacing_file(tmp_path, "https://coda.io/apis/v1", token + "x")
    assert one != pacing_file(tmp_path, "http://127.0.0.1:9/apis/v1", token)


def test_the_pacing_folder_follows_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_pacing_dir() == tmp_path / "cache" / "tap-coda"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_pacing_dir() == tmp_path / "home" / ".cache" / "tap-coda"


def test_pacing_that_cannot_be_shared_is_this_process_alone(
    tmp_path: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    limits = build_rate_limits(
        {"read": 5}, api_url="https://coda.io/apis/v1", token="t", shared=True, folder=str(blocked)
    )
    assert isinstance(limits, RateLimits)
    assert limits.shared_file is None
    assert "Pacing this process alone" in caplog.text
    off = build_rate_limits({"read": 5}, api_url="u", token="t", shared=False, folder=None)
    assert off.shared_file is None
    unpaced = RateLimits({"read": 0}, shared_file=tmp_path / "never" / "made.sqlite")
    assert unpaced.shared_file is None
    assert not (tmp_path / "never").exists()  # nothing to pace: no file
