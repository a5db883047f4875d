"""What one tap run learns as it goes, shared by its streams.

singer-sdk syncs children one after another inside their parent, so a later stream can
read what an earlier one found: `columns` leaves each table's column fingerprint for
`rows`, `rows` leaves its outcome for `table_syncs`, tables whose data changed mark their
pages for `page_contents` (table edits do not move a page's `updatedAt`), and every stream
leaves its failures for the `failures` stream, which runs last.
"""

from __future__ import annotations

import hashlib
import json
import threading
import typing as t
from dataclasses import dataclass, field

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_coda.client import CodaRequestError
from tap_coda.redaction import redact


@dataclass
class TableOutcome:
    mode: str  # full / delta / unchanged
    rows_emitted: int


@dataclass
class RunLedger:
    failures: list[dict[str, t.Any]] = field(default_factory=list)
    column_fingerprints: dict[tuple[str, str], str] = field(default_factory=dict)
    table_outcomes: dict[tuple[str, str], TableOutcome] = field(default_factory=dict)
    #: doc id -> ids of pages holding a table whose rows or columns changed this run
    changed_table_pages: dict[str, set[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_failure(
        self,
        *,
        object_type: str,
        doc_id: str | None,
        object_id: str | None,
        name: str | None,
        error: str,
        http_status: int | None = None,
        attempts: int = 1,
        format: str | None = None,
        kind: str = "failure",
        reason: str | None = None,
    ) -> None:
        """A `failures` record: `kind` "failure", or "skip" for what Coda can never serve
        (`reason` says which: see tap_coda.decisions)."""
        with self._lock:
            self.failures.append(
                {
                    "kind": kind,
                    "reason": reason,
                    "object_type": object_type,
                    "doc_id": doc_id,
                    "object_id": object_id,
                    "name": name,
                    "format": format,
                    "error": error,
                    "http_status": http_status,
                    "attempts": attempts,
                }
            )

    def mark_table_changed(self, doc_id: str, page_id: str | None) -> None:
        if page_id:
            self.changed_table_pages.setdefault(doc_id, set()).add(page_id)


def _without_links(value: t.Any) -> t.Any:
    """Drop `href`/`browserLink`: they name the API host, not the table's shape."""
    if isinstance(value, dict):
        return {k: _without_links(v) for k, v in value.items() if k not in ("href", "browserLink")}
    if isinstance(value, list):
        return [_without_links(v) for v in value]
    return value


def fingerprint(columns: t.Iterable[t.Mapping[str, t.Any]]) -> str:
    """A stable digest of a table's columns (ids, names, formats, order)."""
    digest = hashlib.sha256()
    for column in columns:
        shape = {k: column.get(k) for k in ("id", "name", "format", "calculated", "formula")}
        digest.update(json.dumps(_without_links(shape), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def failure_id(failure: t.Mapping[str, t.Any]) -> str:
    """The `failures` stream's key: the same object failing the same way on two runs has
    one id (a warehouse upserts it), different objects never share one."""
    keys = ("kind", "object_type", "doc_id", "object_id", "format")
    digest = hashlib.sha256(json.dumps([failure.get(k) for k in keys]).encode("utf-8"))
    return digest.hexdigest()[:20]


def failure_details(exc: BaseException, max_tries: int) -> tuple[str, int | None, int]:
    """A failure record's `error` (one line, redacted), `http_status` and `attempts`."""
    response = getattr(exc, "response", None)
    status = response.status_code if isinstance(response, requests.Response) else None
    if isinstance(exc, CodaRequestError):
        status = exc.http_status
    text = redact(str(exc))
    message = text.splitlines()[0] if text else type(exc).__name__
    # Retriable errors reach us only once backoff gave up; the others were tried once.
    retriable = isinstance(exc, (RetriableAPIError, requests.exceptions.RequestException))
    return message[:500], status, max_tries if retriable else 1
