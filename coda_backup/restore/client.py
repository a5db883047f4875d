"""Coda's API for a restore: reads and writes with the tap's pacing, retry waits and error
lines (tap_coda.pacing, tap_coda.responses), never a second copy of them.

Every request is paced by its rate class in the token's shared window (so a backup running
at the same time shares the budget), retried on 429, 5xx and connection errors with the
tap's jittered backoff, and any other error becomes one line (`RestoreError`). The token
goes only into the Authorization header of requests to `api_url`; it is registered for
redaction, so no log line or message can show it.
"""

from __future__ import annotations

import logging
import time
import typing as t
from dataclasses import dataclass, field
from http import HTTPStatus

import requests

from tap_coda.pacing import (
    DOC_CONTENT_WINDOW_SECONDS,
    DOC_CONTENT_WRITES,
    RateLimits,
    Slot,
    build_rate_limits,
    is_doc_content_write,
    rate_class_of,
)
from tap_coda.redaction import redact, register_secret
from tap_coda.responses import decode_json, error_message, retry_wait
from target_files import jsonio

if t.TYPE_CHECKING:
    from tap_coda.settings import Settings

logger = logging.getLogger("coda-backup")

#: 409: a doc just created is not ready for the API yet (NOTES.md §11), like a 429 or 5xx.
RETRIED = {HTTPStatus.CONFLICT, HTTPStatus.TOO_MANY_REQUESTS} | {s for s in HTTPStatus if s >= 500}
#: How long to wait for one write to be applied (Coda: seconds, up to minutes on big docs).
CONFIRM_TIMEOUT_SECONDS = 600.0
CONFIRM_POLL_CAP_SECONDS = 5.0
LAG_RETRY_SECONDS = 0.25


#: A status that stays 404 this long is gone (Coda keeps them about a day), not lagging.
GONE_AFTER_SECONDS = 30.0


class RestoreError(Exception):
    """A restore cannot go on: one line for the user, no secret in it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Client:
    def __init__(
        self,
        settings: Settings,
        token: str,
        *,
        user_agent: str = "coda-backup",
        pacing: tuple[RateLimits, RateLimits] | None = None,
    ) -> None:
        self.settings = settings
        self.base = settings.api_url.rstrip("/")
        register_secret(token)
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "User-Agent": user_agent,
                "Accept": "application/json",
            }
        )
        # Coda's classes as the tap paces them, and page writes also in the doc-content one
        # (0 writes per window, as in the tests' settings, turns that off too).
        content = DOC_CONTENT_WRITES if settings.rate_limits.get("write", 0) > 0 else 0
        self.pacing = pacing or (
            build_rate_limits(
                settings.rate_limits,
                api_url=settings.api_url,
                token=token,
                shared=settings.shared_pacing,
                folder=settings.pacing_dir,
            ),
            build_rate_limits(
                {"doc_content": content},
                api_url=settings.api_url,
                token=token,
                shared=settings.shared_pacing,
                folder=settings.pacing_dir,
                window_s=DOC_CONTENT_WINDOW_SECONDS,
            ),
        )
        self.writes_sent = 0
        self._token, self._user_agent = token, user_agent

    def twin(self) -> Client:
        """Another client with its own connection, on the same pacing (another thread's)."""
        return Client(self.settings, self._token, user_agent=self._user_agent, pacing=self.pacing)

    def close(self) -> None:
        self.session.close()

    # ---- requests ----------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, params: dict[str, t.Any] | None = None, body: t.Any = None
    ) -> requests.Response:
        """One API call, paced and retried; an answer that is not a success raises."""
        url = path if path.startswith(self.base) else self.base + path
        data = jsonio.compact(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        attempt = 0
        while True:
            attempt += 1
            taken = self._slots(method, url)
            response: requests.Response | None = None
            try:
                answer = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self.settings.request_timeout,
                    hooks={"response": [slot.hook for slot in taken]},  # anchored at the answer
                )
            except requests.RequestException as exc:
                if attempt > self.settings.max_retries:
                    raise RestoreError(redact(f"cannot reach Coda at {self.base}: {exc}")) from None
            else:
                if answer.status_code not in RETRIED or attempt > self.settings.max_retries:
                    self._check(answer, method)
                    return answer
                response = answer
            finally:
                for slot in taken:
                    slot.answered()
            wait = retry_wait(attempt, self.settings.backoff_base_seconds, response)
            why = f"HTTP {response.status_code}" if response is not None else "no answer"
            logger.warning(
                "Retrying %s %s in %.1f s (attempt %d): %s", method, path, wait, attempt, why
            )
            time.sleep(wait)

    def _slots(self, method: str, url: str) -> list[Slot]:
        """This try's rate slots (waits for them): its class, and doc content for a page
        write; anchored at the answer by the caller."""
        slots = [self.pacing[1].acquire("doc_content")] if is_doc_content_write(method, url) else []
        slots.append(self.pacing[0].acquire(rate_class_of(method, url)))
        return [slot for slot in slots if slot is not None]

    def _check(self, response: requests.Response, method: str) -> None:
        status = response.status_code
        if status < 400:
            if method != "GET":
                self.writes_sent += 1
            return
        line = error_message(response)
        if status == HTTPStatus.UNAUTHORIZED:
            raise RestoreError(
                f"Coda rejected the API token ({line}): check CODA_API_TOKEN or --token-file"
            )
        if status == HTTPStatus.FORBIDDEN and method != "GET":
            raise RestoreError(
                f"the token may not write here ({line}): a restore needs a token with write access"
            )
        raise RestoreError(line, status)

    def get(self, path: str, **params: t.Any) -> t.Any:
        return decode_json(self.request("GET", path, params=params or None).content)

    def listing(self, path: str, **params: t.Any) -> t.Iterator[dict[str, t.Any]]:
        """Every item of a Coda list, following nextPageToken until it is absent."""
        page = self.get(path, limit=500, **params)
        while True:
            yield from page.get("items") or ()
            token = page.get("nextPageToken")
            if not token:
                return
            page = self.get(path, pageToken=token)

    def write(self, method: str, path: str, body: t.Any = None) -> dict[str, t.Any]:
        answer = decode_json(self.request(method, path, body=body).content)
        return answer if isinstance(answer, dict) else {}

    # ---- mutationStatus ----------------------------------------------------------------------

    def poll(self, write: Waiting) -> tuple[bool, str | None]:
        """One mutationStatus poll: (applied, its warning). Early 404s are replication lag
        (NOTES §11); a status still unknown after GONE_AFTER_SECONDS counts as applied
        (Coda keeps them about a day)."""
        write.polls += 1
        elapsed = time.monotonic() - write.sent
        try:
            status = self.get(f"/mutationStatus/{write.request_id}")
        except RestoreError as exc:
            if exc.status != HTTPStatus.NOT_FOUND:
                raise
            write.lag = True
            if elapsed > GONE_AFTER_SECONDS:
                return True, "Coda no longer knows this write (it keeps a status about a day)"
            return False, None
        write.lag = False
        if status.get("completed"):
            return True, str(status["warning"]) if status.get("warning") else None
        if elapsed > CONFIRM_TIMEOUT_SECONDS:
            msg = f"Coda did not apply write {write.request_id} in {CONFIRM_TIMEOUT_SECONDS:.0f} s"
            raise RestoreError(msg)
        return False, None

    def poll_wait(self, write: Waiting) -> float:
        """Seconds before polling `write` again: soon after a lag 404; a steady pace for the
        first polls (most writes land in seconds), then slower."""
        base = max(self.settings.export_poll_interval, 0.01)
        if write.lag:
            return min(base, LAG_RETRY_SECONDS)
        return min(base * 1.5 ** max(0, write.polls - 5), CONFIRM_POLL_CAP_SECONDS)


@dataclass
class Waiting:
    """A write sent and not yet confirmed."""

    request_id: str
    what: str
    sent: float = field(default_factory=time.monotonic)
    polls: int = 0
    lag: bool = False
