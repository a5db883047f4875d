"""Work that runs ahead of singer-sdk's sequential sync, so Coda's rate limits set the pace.

singer-sdk syncs one doc, one table, one page at a time and writes records in that order.
The write class (export starts, 10 per 6 s) is the tightest budget of a full backup, so
exports must start from the first second and keep that budget busy while tables and rows
are read. `ExportPipeline` lists every doc's pages in a background thread as soon as the
docs are known and starts the exports those pages need on a pool of workers; the streams
then take results in their usual order. What reaches stdout is identical to a sequential
run: only the timing of requests changes.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
import typing as t
from concurrent.futures import Future

from tap_coda import decisions, progress
from tap_coda.client import CodaRequestError
from tap_coda.export import export_page
from tap_coda.spooled import Export
from tap_coda.workers import WorkerPool, WorkerThread

if t.TYPE_CHECKING:
    from tap_coda.client import CodaStream
    from tap_coda.settings import ExportOptions

logger = logging.getLogger(__name__)

PageKey = tuple[str, str, str]  # doc id, page id, format
#: Exports started but not yet taken by the stream: bounds memory on huge accounts. At
#: least twice the workers, so results waiting to be taken never leave a worker idle.
MAX_PENDING_EXPORTS = 64


def page_bookmarks(state: t.Mapping[str, t.Any]) -> dict[PageKey, str]:
    """The `page_updatedAt` each page's export was last taken at, from the input state."""
    stream_state = (state.get("bookmarks") or {}).get("page_contents") or {}
    marks: dict[PageKey, str] = {}
    for partition in stream_state.get("partitions") or []:
        context = partition.get("context") or {}
        value = partition.get("replication_key_value")
        if value and {"doc_id", "page_id", "format"} <= context.keys():
            marks[(context["doc_id"], context["page_id"], context["format"])] = value
    return marks


def rows_bookmarks(state: t.Mapping[str, t.Any]) -> dict[tuple[str, str], dict[str, t.Any]]:
    """Each table's rows bookmark in the input state, copied (worker threads read it while
    the sync updates the live state)."""
    stream_state = (state.get("bookmarks") or {}).get("rows") or {}
    marks: dict[tuple[str, str], dict[str, t.Any]] = {}
    for partition in stream_state.get("partitions") or []:
        context = partition.get("context") or {}
        key = (str(context.get("doc_id")), str(context.get("table_id")))
        marks[key] = copy.deepcopy(partition)
    return marks


def exportable_id(page: t.Mapping[str, t.Any]) -> str | None:
    """The page's id if Coda can export it (a canvas page); None for any other page, and
    for one without an id (the pages stream records that failure)."""
    page_id = page.get("id")
    if not page_id or not decisions.page_is_exportable(page.get("contentType")):
        return None
    return str(page_id)


def needs_export(
    page: t.Mapping[str, t.Any],
    output_format: str,
    marks: t.Mapping[PageKey, str],
    doc_id: str,
    refetch: t.Collection[str] = frozenset(),
) -> bool:
    """Whether the page contents stream will export this page whatever its tables did
    (`decisions.page_export_reason` without the table rule, which is known only later)."""
    page_id = exportable_id(page)
    if page_id is None:
        return False
    reason = decisions.page_export_reason(
        updated_at=page.get("updatedAt"),
        previous=marks.get((doc_id, page_id, output_format)),
        table_changed=False,
        refetch=decisions.refetch_key(doc_id, page_id) in refetch,
    )
    return reason is not None


class ExportPipeline:
    """Page listings and exports, run ahead on worker threads; results taken by key."""

    def __init__(
        self,
        pages_stream: CodaStream,
        contents_stream: CodaStream,
        *,
        workers: int,
        formats: t.Sequence[str],
        marks: t.Mapping[PageKey, str],
        keep_page: t.Callable[[dict[str, t.Any]], bool],
        export_options: ExportOptions,
        refetch: t.Collection[str] = frozenset(),
        on_export: t.Callable[[PageKey, Export], None] | None = None,
    ) -> None:
        #: called on the worker with each export as it lands (its assets start downloading)
        self._on_export = on_export
        self._pages_stream = pages_stream
        self._contents_stream = contents_stream
        self._formats = list(formats)
        self._marks = dict(marks)
        self._keep_page = keep_page
        self._export_options = export_options
        self._refetch = refetch
        self._pool = WorkerPool(max_workers=workers, thread_name_prefix="coda-export")
        self._pending = threading.BoundedSemaphore(max(MAX_PENDING_EXPORTS, 2 * workers))
        self._lock = threading.Lock()
        self._exports: dict[PageKey, Future[Export]] = {}
        #: each doc's listing until the pages stream takes it (then it is let go: at 10,000
        #: pages the listings held to the end were 29 MB of the tap's peak)
        self._listings: dict[str, Future[list[dict[str, t.Any]]]] = {}
        #: each doc's canvas pages the run keeps, for `prefetch` (ids only, held to the end)
        self._exportable: dict[str, Future[frozenset[str]]] = {}
        self._lister: threading.Thread | None = None
        self._stop = threading.Event()

    # -- page listings ------------------------------------------------------------------

    def start(self, doc_ids: t.Sequence[str]) -> None:
        """List the pages of these docs (in order) and start their exports, in background."""
        for doc_id in doc_ids:
            self._listings[doc_id] = Future()
            self._exportable[doc_id] = Future()
        self._lister = WorkerThread(
            target=self._list_all, args=(list(doc_ids),), name="coda-pages", daemon=True
        )
        self._lister.start()

    def _list_all(self, doc_ids: list[str]) -> None:
        for doc_id in doc_ids:
            listing, exportable = self._listings[doc_id], self._exportable[doc_id]
            if self._stop.is_set():
                listing.cancel()
                exportable.cancel()
                continue
            try:
                pages = list(self._pages_stream.request_records({"doc_id": doc_id}))
            except BaseException as exc:  # handed to the stream that reads the listing
                listing.set_exception(exc)
                exportable.cancel()
                continue
            listing.set_result(pages)  # first: what follows must never hold up the stream
            kept = [page for page in pages if self._keep_page(page)]
            exportable.set_result(frozenset(filter(None, map(exportable_id, kept))))
            planned = [
                (doc_id, page["id"], output_format)
                for page in kept
                for output_format in self._formats
                if needs_export(page, output_format, self._marks, doc_id, self._refetch)
            ]
            progress.announce("pages", doc=doc_id, pages=len(kept), exports=len(planned))
            for key in planned:
                self._pending.acquire()  # wait while too many results sit unread
                if self._stop.is_set():
                    return
                self._submit(key, counted=True)

    def prefetch(self, doc_id: str, page_id: str) -> None:
        """Start a page's exports ahead: a table on it changed, so the page will be exported
        again once that table's rows are read; started here, the export is not on the
        sync's path. Only canvas pages the run backs up; skipped (the export then starts
        when the page's turn comes) while too many results wait unread."""
        exportable = self._exportable.get(doc_id)
        if exportable is None or self._stop.is_set():
            return
        # Runs now if the doc's pages are listed, else on the listing thread once they are.
        exportable.add_done_callback(lambda done: self._prefetch_listed(done, doc_id, page_id))

    def _prefetch_listed(
        self, exportable: Future[frozenset[str]], doc_id: str, page_id: str
    ) -> None:
        if exportable.cancelled() or self._stop.is_set() or page_id not in exportable.result():
            return
        for output_format in self._formats:
            if self._pending.acquire(blocking=False):
                key = (doc_id, page_id, output_format)
                with self._lock:
                    fresh = key not in self._exports
                self._submit(key, counted=True)
                if fresh:
                    progress.announce("exports", doc=doc_id, count=1)

    def pages(self, doc_id: str) -> list[dict[str, t.Any]] | None:
        """The doc's page listing (raises what listing raised); None if not prefetched.
        Taken once: the pages stream holds it while it goes through the doc."""
        listing = self._listings.pop(doc_id, None)
        return None if listing is None else listing.result()

    # -- exports ------------------------------------------------------------------------

    def _submit(self, key: PageKey, *, counted: bool) -> Future[Export]:
        with self._lock:
            future = self._exports.get(key)
            if future is None:
                future = self._pool.submit(self._export, key)
                future.counted = counted  # type: ignore[attr-defined]
                self._exports[key] = future
            elif counted:
                self._pending.release()  # already running: this slot was not needed
        return future

    def _export(self, key: PageKey) -> Export:
        doc_id, page_id, output_format = key
        # its status polls go before reads that can wait (tap_coda.services)
        with self._contents_stream.services.rate_limits.reserving("read"):
            content = export_page(
                self._contents_stream,
                doc_id,
                page_id,
                output_format,
                sleep=self._wait,
                **self._export_options,
            )
        if self._on_export is not None:
            self._on_export(key, content)
        return content

    def _wait(self, seconds: float) -> None:
        """Sleep between polls, but end the export as soon as the run stops (a SIGTERM
        must not wait for every export in flight to finish)."""
        if self._stop.wait(seconds):
            msg = "the run stopped before the export finished"
            raise CodaRequestError(msg)

    def export(self, key: PageKey) -> Export:
        """The exported text of a page (started now if the listing thread did not)."""
        future = self._submit(key, counted=False)
        try:
            return future.result()
        finally:
            with self._lock:
                self._exports.pop(key, None)
            if getattr(future, "counted", False):
                self._pending.release()

    def close(self) -> None:
        """Stop listing and exporting (the run is over, or aborted)."""
        self._stop.set()
        with contextlib.suppress(ValueError):
            self._pending.release()  # wake the listing thread if it waits for a slot
        self._pool.shutdown(wait=False, cancel_futures=True)
