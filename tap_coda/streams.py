"""The streams of tap-coda (docs/RECORDS.md): what each one asks Coda for and emits.

Parents and children follow singer-sdk's model: `docs` → `tables` → `columns`, `rows`,
`table_syncs`; `docs` → `pages` → `page_contents`; `failures` runs last. Children receive
small contexts (ids and the few fields needed to decide what to fetch), never secrets.
One object that cannot be read becomes a failure record; the run goes on.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone
from functools import cached_property

import requests
from singer_sdk import Stream
from singer_sdk import singerlib as singer
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

from tap_coda import schemas
from tap_coda.client import (
    CodaClientError,
    CodaRequestError,
    CodaStream,
    describe_failure,
    json_body,
)
from tap_coda.ledger import TableOutcome, fingerprint

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

#: What one object failing can raise; anything else (a 401, a bug) stops the run.
OBJECT_ERRORS = (CodaClientError, CodaRequestError, RetriableAPIError, requests.RequestException)
#: A delta larger than this is fetched again in full instead of held in memory.
MAX_DELTA_ROWS = 20_000


class _Stream(CodaStream):
    """A tap-coda stream: it records the failure of one object instead of stopping the run."""

    def fail(self, context: Context, exc: BaseException, **fields: t.Any) -> None:
        message, status, attempts = describe_failure(exc, self.backoff_max_tries())
        self.logger.warning(
            "Could not back up %s %s: %s",
            fields.get("object_type"),
            fields.get("object_id") or context.get("doc_id"),
            message,
        )
        self.ledger.record_failure(
            doc_id=context.get("doc_id"),
            error=message,
            http_status=status,
            attempts=attempts,
            **fields,
        )

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        # singer-sdk makes (and copies) a child context for every record, children or
        # not: for rows, once per row, for nothing.
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    def guarded(
        self, context: Context, records: t.Iterable[dict], **fields: t.Any
    ) -> t.Iterator[dict]:
        """Yield from a listing; a failure part-way is recorded and ends the listing."""
        try:
            yield from records
        except OBJECT_ERRORS as exc:
            self.fail(context, exc, **fields)


class _Child(_Stream):
    """A stream under a doc; its state needs no partition per parent."""

    state_partitioning_keys: t.ClassVar[list[str] | None] = []


class DocsStream(_Stream):
    """`GET /docs` (owned by default) or `GET /docs/{id}` for each configured doc id."""

    name = "docs"
    path = "/docs"
    primary_keys = ("id",)
    schema = schemas.DOC
    page_size = 100

    def get_url_params(self, context: Context | None, next_page_token: str | None) -> dict:
        params = super().get_url_params(context, next_page_token)
        if not self.config.get("include_shared"):
            params["isOwner"] = "true"
        if self.config.get("workspace_id"):
            params["workspaceId"] = self.config["workspace_id"]
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        docs = list(self._list_docs(context))
        # Page listings and exports start now, on worker threads, for every doc at once.
        self._tap.start_pipeline(  # type: ignore[attr-defined]
            [d["id"] for d in docs if not (d.get("docSize") or {}).get("overApiSizeLimit")]
        )
        yield from docs

    def _list_docs(self, context: Context | None) -> t.Iterable[dict]:
        doc_ids = self.config.get("doc_ids") or []
        if not doc_ids:
            # The account listing is the backup's root: if it fails, the run fails.
            yield from self.request_records(context)
            return
        for doc_id in doc_ids:
            try:
                yield json_body(self.call("GET", f"/docs/{doc_id}"))
            except OBJECT_ERRORS as exc:
                self.fail({"doc_id": doc_id}, exc, object_type="doc", object_id=doc_id, name=None)

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        if (record.get("docSize") or {}).get("overApiSizeLimit"):
            self.ledger.record_failure(
                object_type="doc",
                doc_id=record["id"],
                object_id=record["id"],
                name=record.get("name"),
                error="doc is over Coda's API size limit (docSize.overApiSizeLimit): "
                "only its metadata can be backed up",
            )
            return
        yield {"doc_id": record["id"]}


class TablesStream(_Child):
    """Each table and view: the listing gives references, `getTable` the full object."""

    name = "tables"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/tables"
    primary_keys = ("doc_id", "id")
    schema = schemas.TABLE

    def get_url_params(self, context: Context | None, next_page_token: str | None) -> dict:
        return {**super().get_url_params(context, next_page_token), "tableTypes": "table,view"}

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        doc_id = context["doc_id"]
        read_ahead = self._tap.read_ahead  # type: ignore[attr-defined]
        listed = read_ahead.take("tables", doc_id) if read_ahead else None
        refs = self.guarded(
            context,
            self._listing(context, listed),
            object_type="tables",
            object_id=None,
            name="table listing",
        )
        refs = list(refs)
        self._mark_pages_of_vanished_tables(doc_id, refs)
        for ref in filter(self.keep, refs):
            read = read_ahead.take("table", doc_id, ref["id"]) if listed else None
            try:
                response = (
                    read.result()
                    if read
                    else self.call("GET", f"/docs/{doc_id}/tables/{ref['id']}")
                )
                table = json_body(response)
            except OBJECT_ERRORS as exc:
                self.fail(
                    context, exc, object_type="table", object_id=ref["id"], name=ref.get("name")
                )
                continue
            yield {**table, "doc_id": doc_id}

    def _listing(self, context: Context, listed: t.Any) -> t.Iterator[dict]:
        yield from listed.result() if listed else self.request_records(context)

    def keep(self, ref: Record) -> bool:
        return ref.get("tableType") != "view" or bool(self.config.get("include_views", True))

    def _mark_pages_of_vanished_tables(self, doc_id: str, refs: list[dict]) -> None:
        """A table or view gone since the last run changed the page it sat on, and nothing
        need move that page's `updatedAt` (a view goes with its base table, which may sit
        on another page): that page is exported again, as for a table whose rows changed.
        The rows bookmark of each table remembers its page; a gone table's is dropped."""
        failures = self.ledger.failures
        if any(f["object_type"] == "tables" and f["doc_id"] == doc_id for f in failures):
            return  # a listing that broke off proves nothing about what is gone
        listed = {ref.get("id") for ref in refs}
        rows_state = (self.tap_state.get("bookmarks") or {}).get("rows") or {}
        partitions = rows_state.get("partitions") or []
        kept = []
        for partition in partitions:
            where = partition.get("context") or {}
            if where.get("doc_id") == doc_id and where.get("table_id") not in listed:
                self.ledger.mark_table_changed(doc_id, partition.get("page_id"))
            else:
                kept.append(partition)
        partitions[:] = kept

    def get_child_context(self, record: Record, context: Context | None) -> Context:
        return {
            "doc_id": record["doc_id"],
            "table_id": record["id"],
            "table_type": record.get("tableType") or "table",
            "table_name": record.get("name"),
            "table_updated_at": record.get("updatedAt"),
            "row_count": record.get("rowCount"),
            "page_id": (record.get("parent") or {}).get("id"),
            # Rows' browserLinks are built on the table's, which carries its page's name:
            # RowsStream reads the rows again when it moved (a page rename moves no
            # updatedAt, yet every row's link changes).
            "table_browser_link": record.get("browserLink"),
        }


class ColumnsStream(_Child):
    """A table's columns in listing order (`position`); Coda caps a page at 100."""

    name = "columns"
    parent_stream_type = TablesStream
    path = "/docs/{doc_id}/tables/{table_id}/columns"
    primary_keys = ("doc_id", "table_id", "id")
    schema = schemas.COLUMN
    page_size = 100

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        columns = list(
            self.guarded(
                context,
                self._listing(context),
                object_type="columns",
                object_id=context["table_id"],
                name=context.get("table_name"),
            )
        )
        if not any(
            f["object_id"] == context["table_id"] and f["object_type"] == "columns"
            for f in self.ledger.failures
        ):
            key = (context["doc_id"], context["table_id"])
            self.ledger.column_fingerprints[key] = fingerprint(columns)
        for position, column in enumerate(columns):
            yield {
                **column,
                "doc_id": context["doc_id"],
                "table_id": context["table_id"],
                "position": position,
            }

    def _listing(self, context: Context) -> t.Iterator[dict]:
        """The columns read ahead (see tap_coda.pipeline), else a request now."""
        read_ahead = self._tap.read_ahead  # type: ignore[attr-defined]
        read = (
            read_ahead.take("columns", context["doc_id"], context["table_id"])
            if (read_ahead)
            else None
        )
        yield from read.result() if read else self.request_records(context)


class RowsStream(_Child):
    """A table's rows, fetched in full, as a sync-token delta, or not at all.

    Per table the state keeps the final page's `nextSyncToken`, the row count, the columns'
    fingerprint and the table's `updatedAt`. Unchanged table → no row request. A delta
    never reports deletions, so when the previous count plus the rows created since does
    not give today's `rowCount`, the table is read in full. Views are never deltas: rows
    entering or leaving a view's filter are not "changed" rows.
    """

    name = "rows"
    parent_stream_type = TablesStream
    # Rows are Coda's JSON as received, already what the schema says: checking every
    # value of every row again would be most of the tap's CPU on a large table.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    path = "/docs/{doc_id}/tables/{table_id}/rows"
    primary_keys = ("doc_id", "table_id", "id")
    replication_key = "updatedAt"
    schema = schemas.ROW
    state_partitioning_keys: t.ClassVar[list[str] | None] = ["doc_id", "table_id"]

    _sync_token: str | None = None
    _paginator: t.Any = None
    _latest_row: Record | None = None
    _extracted_at: datetime | None = None

    def get_new_paginator(self) -> t.Any:
        self._paginator = super().get_new_paginator()
        return self._paginator

    def get_url_params(self, context: Context | None, next_page_token: str | None) -> dict:
        params = {
            **super().get_url_params(context, next_page_token),
            "valueFormat": self.config.get("value_format", "simpleWithArrays"),
        }
        if self._sync_token:
            params["syncToken"] = self._sync_token
        return params

    def _fetch(self, context: Context, sync_token: str | None) -> t.Iterator[dict]:
        self._sync_token = sync_token
        try:
            yield from self.request_records(context)
        finally:
            self._sync_token = None

    def plan(self, context: Context, previous: t.Mapping[str, t.Any], fp: str | None) -> str:
        """How a table's rows are read: `full`, `delta` or `unchanged`, from its rows
        bookmark (`previous`), its `getTable` (in `context`) and its columns' fingerprint."""
        same_shape = fp is not None and previous.get("columns_fingerprint") == fp
        # A renamed page changes every row's browserLink (it carries the page's name)
        # while no updatedAt moves: the table's own browserLink tells.
        same_links = previous.get("table_browser_link") == context.get("table_browser_link")
        if not previous.get("sync_token") or not same_shape or not same_links:
            return "full"
        refresh_days = int(self.config.get("rows_full_refresh_days") or 0)
        last_full = previous.get("full_synced_at")
        if refresh_days and (
            not last_full
            or datetime.fromisoformat(last_full)
            < datetime.now(timezone.utc) - timedelta(days=refresh_days)
        ):
            return "full"
        if previous.get("table_updated_at") == context.get("table_updated_at") and previous.get(
            "row_count"
        ) == context.get("row_count"):
            return "unchanged"
        if context.get("table_type") == "view":
            return "full"
        if (context.get("row_count") or 0) < (previous.get("row_count") or 0):
            return "full"  # fewer rows than before: something was deleted
        return "delta"

    def _delta(self, context: Context, previous: dict) -> list[dict] | None:
        """The rows changed since the token, or None when only a full read is safe."""
        try:
            rows = []
            for row in self._fetch(context, previous["sync_token"]):
                rows.append(row)
                if len(rows) > MAX_DELTA_ROWS:
                    return None
        except CodaClientError as exc:
            self.logger.info(
                "Sync token of %s refused (%s): reading it in full", context["table_id"], exc
            )
            return None
        since = previous.get("max_created_at") or ""
        created = sum(1 for row in rows if (row.get("createdAt") or "") > since)
        if (previous.get("row_count") or 0) + created != context.get("row_count"):
            return None  # rows were deleted (deltas never say so)
        return rows

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        state = self.get_context_state(context)
        key = (context["doc_id"], context["table_id"])
        mode = self.plan(context, state, self.ledger.column_fingerprints.get(key))
        if self.config.get("dry_run"):
            # Say what a run would do (a delta may still turn full once read); read nothing.
            self.ledger.table_outcomes[key] = TableOutcome(mode, 0)
            if mode != "unchanged":
                self.ledger.mark_table_changed(context["doc_id"], context.get("page_id"))
            return
        emitted = 0
        max_created = state.get("max_created_at") or ""
        rows: t.Iterable[dict] = ()
        if mode == "delta":
            delta = self._delta(context, state)
            mode, rows = ("delta", delta) if delta is not None else ("full", ())
        if mode == "full":
            max_created = ""
            rows = self._fetch(context, None)
        try:
            for row in rows:
                emitted += 1
                max_created = max(max_created, row.get("createdAt") or "")
                yield row
            self._flush_bookmark(context)
        except OBJECT_ERRORS as exc:
            self._flush_bookmark(context)
            self.fail(
                context,
                exc,
                object_type="rows",
                object_id=context["table_id"],
                name=context.get("table_name"),
            )
            self.ledger.table_outcomes[key] = TableOutcome("failed", emitted)
            return
        self.ledger.table_outcomes[key] = TableOutcome(mode, emitted)
        if mode == "unchanged":
            return
        self.ledger.mark_table_changed(context["doc_id"], context.get("page_id"))
        # Written only once every page is out: a failed read keeps the old token.
        token = self._paginator.next_sync_token if self._paginator else None
        state.update(
            sync_token=token,
            row_count=context.get("row_count"),
            columns_fingerprint=self.ledger.column_fingerprints.get(key),
            table_updated_at=context.get("table_updated_at"),
            table_browser_link=context.get("table_browser_link"),
            page_id=context.get("page_id"),  # for TablesStream, should the table vanish
            max_created_at=max_created or None,
        )
        if mode == "full":
            state["full_synced_at"] = datetime.now(timezone.utc).isoformat()

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        assert context is not None
        row["doc_id"], row["table_id"] = context["doc_id"], context["table_id"]
        return row

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        # Every row of a page was extracted when the page arrived: one clock read a page.
        self._extracted_at = datetime.now(timezone.utc)
        yield from super().parse_response(response)

    # -- the per-row path ---------------------------------------------------------------
    # Rows are nearly all of a backup's records. singer-sdk's generic per-record work
    # (walking the selection mask through every value of every row, and moving the
    # replication-key bookmark once per row) was about 40 % of the tap's CPU. The two
    # private hooks below keep its results and drop the per-row cost; both fall back to
    # singer-sdk whenever the simple case does not hold. tests/test_rows_fast_path.py
    # compares them with singer-sdk's own path, so a singer-sdk change that breaks them
    # fails there.

    @cached_property
    def _plain_records(self) -> bool:
        """Every property selected, no stream map or flattening, no type conforming: a
        row is emitted exactly as received (what singer-sdk's path would produce)."""
        maps = self.stream_maps
        return (
            self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    def _generate_record_messages(self, record: Record) -> t.Iterator[singer.RecordMessage]:
        if not self._plain_records:
            yield from super()._generate_record_messages(record)
            return
        yield singer.RecordMessage(
            stream=self.name,
            record=record,
            version=self._stream_version,
            time_extracted=self._extracted_at or datetime.now(timezone.utc),
        )

    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # The bookmark of an unsorted stream ends at the largest `updatedAt` it saw; keep
        # that row and hand it to singer-sdk once, when the table's rows are done.
        best = self._latest_row
        if best is None or (latest_record.get("updatedAt") or "") >= (best.get("updatedAt") or ""):
            self._latest_row = latest_record

    def _flush_bookmark(self, context: Context) -> None:
        if self._latest_row is not None:
            super()._increment_stream_state(self._latest_row, context=context)
            self._latest_row = None


class TableSyncsStream(_Child):
    """One record per table per run: how its rows were read (full, delta, unchanged)."""

    name = "table_syncs"
    parent_stream_type = TablesStream
    path = "/docs/{doc_id}/tables/{table_id}/rows"  # no request of its own
    primary_keys = ("doc_id", "table_id")
    schema = schemas.TABLE_SYNC

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        outcome = self.ledger.table_outcomes.pop((context["doc_id"], context["table_id"]), None)
        if outcome is None:
            return  # rows not selected: nothing to say
        record = {
            "doc_id": context["doc_id"],
            "table_id": context["table_id"],
            "table_type": context.get("table_type"),
            "mode": outcome.mode,
            "rows_emitted": outcome.rows_emitted,
            "row_count": context.get("row_count"),
        }
        # A dry run's plan, not rows read: marked, so no target takes it for a backup.
        yield {**record, "dry_run": True} if self.config.get("dry_run") else record


class PagesStream(_Child):
    """Every page of a doc (a flat list: hidden pages and subpages included)."""

    name = "pages"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/pages"
    primary_keys = ("doc_id", "id")
    schema = schemas.PAGE

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        yield from self.guarded(
            context,
            self._listing(context),
            object_type="pages",
            object_id=None,
            name="page listing",
        )

    def _listing(self, context: Context) -> t.Iterable[dict]:
        """The listing the pipeline prefetched, else a request now."""
        pipeline = self._tap.pipeline  # type: ignore[attr-defined]
        prefetched = pipeline.pages(context["doc_id"]) if pipeline else None
        yield from self.request_records(context) if prefetched is None else prefetched

    def keep(self, page: Record) -> bool:
        return not (self.config.get("skip_hidden_pages") and page.get("isEffectivelyHidden"))

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        assert context is not None
        return {**row, "doc_id": context["doc_id"]} if self.keep(row) else None

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        for output_format in self.config.get("page_formats", ["markdown"]):
            yield {
                "doc_id": record["doc_id"],
                "page_id": record["id"],
                "format": output_format,
                "page_name": record.get("name"),
                "page_updated_at": record.get("updatedAt"),
                "content_type": record.get("contentType"),
            }


class PageContentsStream(_Child):
    """A page exported as Markdown or HTML; skipped when neither it nor its tables changed."""

    name = "page_contents"
    parent_stream_type = PagesStream
    path = "/docs/{doc_id}/pages/{page_id}/export"
    primary_keys = ("doc_id", "page_id", "format")
    replication_key = "page_updatedAt"
    schema = schemas.PAGE_CONTENT
    state_partitioning_keys: t.ClassVar[list[str] | None] = ["doc_id", "page_id", "format"]

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        doc_id, page_id, output_format = context["doc_id"], context["page_id"], context["format"]
        failure = {
            "object_type": "page_content",
            "object_id": page_id,
            "name": context.get("page_name"),
            "format": output_format,
        }
        if context.get("content_type") != "canvas":
            self.ledger.record_failure(
                doc_id=doc_id,
                **failure,
                error="Coda exports only canvas pages; this page is "
                f"{context.get('content_type')!r}",
            )
            return
        updated = context.get("page_updated_at")
        previous = self.get_starting_replication_key_value(context)
        table_changed = page_id in self.ledger.changed_table_pages.get(doc_id, set())
        if updated and previous == updated and not table_changed:
            return
        if self.config.get("dry_run"):
            # What a run would export, and why; nothing is exported.
            reason = "new" if previous is None else "changed" if previous != updated else "table"
            yield {
                "doc_id": doc_id,
                "page_id": page_id,
                "format": output_format,
                "page_updatedAt": updated,
                "content": None,
                "dry_run_reason": reason,
                "dry_run": True,
            }
            return
        try:
            content = self._tap.export(doc_id, page_id, output_format)  # type: ignore[attr-defined]
        except OBJECT_ERRORS as exc:
            self.fail(context, exc, **failure)
            return
        yield {
            "doc_id": doc_id,
            "page_id": page_id,
            "format": output_format,
            "page_updatedAt": updated,
            "content": content,
        }


class FailuresStream(Stream):
    """Every object of this run that could not be backed up; synced after all docs."""

    name = "failures"
    primary_keys = ()
    schema = schemas.FAILURE

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self._tap.ledger.failures  # type: ignore[attr-defined]


STREAM_TYPES: tuple[type[Stream], ...] = (
    # Order matters: children sync in this order, and tables must precede pages so that
    # a page holding a changed table is exported again.
    DocsStream,
    TablesStream,
    ColumnsStream,
    RowsStream,
    TableSyncsStream,
    PagesStream,
    PageContentsStream,
    FailuresStream,
)
