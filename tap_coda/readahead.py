"""Reads of each doc, run on a pool of workers a window of docs ahead of the sync.

singer-sdk syncs one doc after the other and, within a doc, one stream after the other;
each of its reads is a round trip taken when the sync reaches it, so the read budget sits
idle between them. `ReadAhead` starts every selected stream's reads of the next `window`
docs at once (tables and columns, formulas, controls, permissions, sharing: each stream
says what it reads, `DocReader`) and the streams take the results in their usual order,
so what reaches stdout is what a sequential run writes. Only `window` docs are read ahead
of the sync, so memory does not grow with the size of the account, and nothing is read
that the sync would not read: the same requests, earlier.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import typing as t
from concurrent.futures import Future
from dataclasses import dataclass, field

from tap_coda import progress
from tap_coda.client import table_path
from tap_coda.responses import json_body
from tap_coda.workers import WorkerPool

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    import requests

    from tap_coda.client import CodaStream

logger = logging.getLogger(__name__)

_T = t.TypeVar("_T")
Key = tuple[str, ...]  # (what, doc id, …): the doc id second, for the window


class Submit(t.Protocol):
    """Runs `fn(*args)` on a worker (or here, without read-ahead)."""

    def __call__(self, fn: Callable[..., _T], /, *args: t.Any) -> Future[_T]: ...


#: Starts one stream's reads of a doc (it must not wait for them) and returns what the
#: stream will take: a future, or a structure of futures.
DocReader = t.Callable[[str, Submit], object]


@dataclass
class Listing:
    """A paged listing as far as it went, and what ended it early: read ahead, a listing
    that fails on its third page still hands over its first two, as it would have."""

    records: list[dict[str, t.Any]] = field(default_factory=list)
    error: Exception | None = None

    @classmethod
    def of(cls, records: Iterable[dict[str, t.Any]]) -> Listing:
        listing = cls()
        try:
            listing.records.extend(records)
        except Exception as exc:  # raised again where the stream replays the listing
            listing.error = exc
        return listing

    def replay(self) -> Iterator[dict[str, t.Any]]:
        """The records, then the error (if any) where the listing broke off."""
        yield from self.records
        if self.error is not None:
            raise self.error


def window_end(position: int, window: int, count: int) -> int:
    """How many docs (from the first) may be read once the sync reached the doc at
    `position`: that doc and `window` more."""
    return min(count, max(position + 1, 0) + window)


class ReadAhead:
    """Each doc's reads, started `window` docs ahead of the doc the sync is on."""

    def __init__(self, *, workers: int, window: int = 3) -> None:
        self._window = window
        self._pool = WorkerPool(max_workers=workers, thread_name_prefix="coda-read")
        self._lock = threading.RLock()
        self._taken: dict[Key, object] = {}
        #: name -> (reader, its window, how many docs it has started)
        self._readers: dict[str, tuple[DocReader, int]] = {}
        self._started: dict[str, int] = {}
        self._position: dict[str, int] = {}
        self._doc_ids: list[str] = []

    def add(self, name: str, reader: DocReader, *, window: int | None = None) -> None:
        """Read `name` ahead for every doc (the stream takes it as `take(name, doc_id)`),
        `window` docs ahead (default: the read-ahead's; 0: from when the sync reaches
        the doc)."""
        self._readers[name] = (reader, self._window if window is None else window)
        self._started[name] = 0

    def submit(self, fn: Callable[..., _T], /, *args: t.Any) -> Future[_T]:
        return self._pool.submit(fn, *args)

    def keep(self, key: Key, value: object) -> None:
        """Hold a read for the stream that takes it by this key."""
        with self._lock:
            self._taken[key] = value

    def once(self, key: Key, fn: Callable[[], object]) -> None:
        """A read of the whole run (the folders), started now."""
        self.keep(key, self.submit(fn))

    def start(self, doc_ids: Sequence[str]) -> None:
        with self._lock:
            self._doc_ids = list(doc_ids)
            self._position = {doc_id: i for i, doc_id in enumerate(self._doc_ids)}
            self._advance(-1)

    def _advance(self, position: int) -> None:
        """The sync reached the doc at `position`: start each reader's docs up to its window."""
        with self._lock:
            for name, (reader, window) in self._readers.items():
                end = window_end(position, window, len(self._doc_ids))
                for doc_id in self._doc_ids[self._started[name] : end]:
                    self._taken[(name, doc_id)] = reader(doc_id, self.submit)
                self._started[name] = max(self._started[name], end)

    def take(self, *key: str) -> t.Any:
        """What was read ahead for this key (a future raises what the read raised); None
        if it was not. Reaching a doc first starts the reads up to each reader's window
        (so a reader of window 0 starts that doc's reads now, and they are taken)."""
        with self._lock:
            position = self._position.get(key[1]) if len(key) > 1 else None
            if position is not None:
                self._advance(position)
            return self._taken.pop(key, None)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _announce_rows(doc_id: str, read: Future[t.Any]) -> None:
    """A table's rowCount, once its getTable is in (a failed read is the stream's to report)."""
    if not read.cancelled() and read.exception() is None:
        with contextlib.suppress(Exception):  # a hint for a progress display, nothing more
            table = json_body(read.result())
            progress.announce("table", doc=doc_id, table=table["id"], rows=table.get("rowCount"))


class TableReads:
    """A doc's table listing, then each kept table's `getTable` and column listing, each on
    a worker: read by the sync they cost a round trip per table, read ahead about one per
    `workers` tables. Taken as `("tables", doc)`, `("table", doc, table)` and
    `("columns", doc, table)`."""

    def __init__(
        self,
        ahead: ReadAhead,
        tables_stream: CodaStream,
        columns_stream: CodaStream,
        *,
        keep_table: Callable[[dict[str, t.Any]], bool],
        on_table: Callable[[str, dict[str, t.Any], list[dict[str, t.Any]]], None] | None = None,
    ) -> None:
        self._ahead = ahead
        self._tables_stream = tables_stream
        self._columns_stream = columns_stream
        self._keep_table = keep_table
        self._on_table = on_table

    def __call__(self, doc_id: str, submit: Submit) -> Future[list[dict[str, t.Any]]]:
        return submit(self._read_doc, doc_id)

    def _read_doc(self, doc_id: str) -> list[dict[str, t.Any]]:
        refs = list(self._tables_stream.request_records({"doc_id": doc_id}))
        kept = list(filter(self._keep_table, refs))
        progress.announce("tables", doc=doc_id, count=len(kept))
        reads = []
        for ref in kept:  # kept before this listing is handed over: the stream finds them
            where = {"doc_id": doc_id, "table_id": ref["id"]}
            path = table_path(doc_id, ref["id"])
            table = self._ahead.submit(self._tables_stream.call, "GET", path)
            columns = self._ahead.submit(self._read_columns, where)
            self._ahead.keep(("table", doc_id, ref["id"]), table)
            self._ahead.keep(("columns", doc_id, ref["id"]), columns)
            reads.append((table, columns))
            table.add_done_callback(functools.partial(_announce_rows, doc_id))
        if self._on_table is not None:
            for table, columns in reads:
                self._when_both_read(doc_id, table, columns)
        return refs

    def _read_columns(self, where: dict[str, t.Any]) -> list[dict[str, t.Any]]:
        return list(self._columns_stream.request_records(where))

    def _when_both_read(
        self, doc_id: str, table: Future[requests.Response], columns: Future[t.Any]
    ) -> None:
        """Call `on_table` once a table's `getTable` and columns are both in (on whichever
        worker finishes last); a read that failed is left to the stream to report."""

        def both_read(_columns: Future[t.Any]) -> None:
            if table.cancelled() or columns.cancelled():
                return
            if table.exception() is None and columns.exception() is None:
                try:
                    self._on_table(doc_id, json_body(table.result()), columns.result())  # type: ignore[misc]
                except Exception:  # a hint only: the sync decides and reports as before
                    logger.debug("Read-ahead hook failed for a table of %s", doc_id, exc_info=True)

        # Once the table is in, wait for the columns (a done future calls back at once).
        table.add_done_callback(lambda _table: columns.add_done_callback(both_read))
