"""The streams of tap-coda (docs/RECORDS.md): what each one asks Coda for and emits.

Parents and children follow singer-sdk's model: `docs` → `tables` → `columns`, `rows`
(rows.py), `table_syncs`; `docs` → `pages` → `page_contents` (pagestreams.py); `failures`
runs last. Children receive small contexts (ids and the few fields needed to decide what to
fetch), never secrets. One object that cannot be read becomes a failure record; the run
goes on.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Stream

from tap_coda import decisions, progress, schemas, shapes
from tap_coda.client import CodaStream, table_path
from tap_coda.egress import segment
from tap_coda.ledger import failure_details, failure_id, fingerprint
from tap_coda.partitions import IndexedStateStream
from tap_coda.responses import json_body
from tap_coda.state import DocStateWriter
from tap_coda.wellformed import OBJECT_ERRORS as OBJECT_ERRORS  # noqa: PLC0414 - re-exported
from tap_coda.wellformed import WellFormed

if t.TYPE_CHECKING:
    from concurrent.futures import Future

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_coda.services import Services


class BackupStream(WellFormed, IndexedStateStream, CodaStream):
    """A tap-coda stream: it records the failure of one object instead of stopping the run."""

    def fail(self, context: Context, exc: BaseException, **fields: t.Any) -> None:
        message, status, attempts = failure_details(exc, self.backoff_max_tries())
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

    def skip(self, reason: str, **fields: t.Any) -> None:
        """Record what Coda can never serve: a skip, or a failure with `skips_as_failures`."""
        kind = "failure" if self.settings.skips_as_failures else "skip"
        self.ledger.record_failure(kind=kind, reason=reason, **fields)

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        # singer-sdk makes (and copies) a child context for every record, children or
        # not: for rows, once per row, for nothing.
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)


class ChildStream(BackupStream):
    """A stream under a doc; its state needs no partition per parent."""

    state_partitioning_keys: t.ClassVar[list[str] | None] = []


class DocsStream(BackupStream):
    """`GET /docs` (owned by default) or `GET /docs/{id}` for each configured doc id."""

    name = "docs"
    path = "/docs"
    primary_keys = ("id",)
    schema = schemas.DOC
    page_size = 100

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        if not self.settings.include_shared:
            params["isOwner"] = "true"
        if self.settings.workspace_id:
            params["workspaceId"] = self.settings.workspace_id
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        docs = list(self.well_formed(context, self._list_docs(context), "doc"))
        readable = [d["id"] for d in docs if not decisions.doc_is_over_size_limit(d)]
        progress.announce("docs", count=len(docs), readable=len(readable))
        # Page listings and exports start now, on worker threads, for every doc at once.
        self.services.on_docs_listed(readable)
        yield from docs

    def _list_docs(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        doc_ids = self.settings.doc_ids
        if not doc_ids:
            # The account listing is the backup's root: if it fails, the run fails.
            yield from self.request_records(context)
            return
        for doc_id in doc_ids:
            try:
                yield json_body(self.call("GET", f"/docs/{segment(doc_id)}"))
            except OBJECT_ERRORS as exc:
                self.fail({"doc_id": doc_id}, exc, object_type="doc", object_id=doc_id, name=None)

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        if decisions.doc_is_over_size_limit(record):
            self.skip(
                decisions.OVER_API_SIZE_LIMIT,
                object_type="doc",
                doc_id=record["id"],
                object_id=record["id"],
                name=record.get("name"),
                error="doc is over Coda's API size limit (docSize.overApiSizeLimit): "
                "only its metadata can be backed up",
            )
            return
        yield {"doc_id": record["id"]}

    def _sync_children(self, child_context: Context | None) -> None:
        super()._sync_children(child_context)
        if isinstance(writer := self._tap.state_writer, DocStateWriter):
            writer.flush()  # a doc is done: its bookmarks go out (no STATE per child)


class TablesStream(ChildStream):
    """Each table and view: the listing gives references, `getTable` the full object."""

    name = "tables"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/tables"
    primary_keys = ("doc_id", "id")
    schema = schemas.TABLE

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        return {**super().get_url_params(context, next_page_token), "tableTypes": "table,view"}

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        doc_id = context["doc_id"]
        read_ahead = self.services.read_ahead
        listed = read_ahead.take("tables", doc_id) if read_ahead else None
        refs = list(
            self.guarded(
                context,
                self.well_formed(context, self._listing(context, listed), "table"),
                object_type="tables",
                object_id=None,
                name="table listing",
            )
        )
        self._mark_pages_of_vanished_tables(doc_id, refs)
        for ref in filter(self.keep, refs):
            read = read_ahead.take("table", doc_id, ref["id"]) if read_ahead and listed else None
            try:
                response = (
                    read.result() if read else self.call("GET", table_path(doc_id, ref["id"]))
                )
                table = json_body(response)
                if why := shapes.problem("table", table):
                    raise shapes.ShapeError(why)
            except OBJECT_ERRORS as exc:
                self.fail(
                    context, exc, object_type="table", object_id=ref["id"], name=ref.get("name")
                )
                continue
            yield {**table, "doc_id": doc_id}

    def _listing(
        self, context: Context, listed: Future[list[dict[str, t.Any]]] | None
    ) -> t.Iterator[dict[str, t.Any]]:
        yield from listed.result() if listed else self.request_records(context)

    def keep(self, ref: Record) -> bool:
        return decisions.table_is_kept(ref, include_views=self.settings.include_views)

    def _mark_pages_of_vanished_tables(self, doc_id: str, refs: list[dict[str, t.Any]]) -> None:
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


class ColumnsStream(ChildStream):
    """A table's columns in listing order (`position`); Coda caps a page at 100."""

    name = "columns"
    parent_stream_type = TablesStream
    path = "/docs/{doc_id}/tables/{table_id}/columns"
    primary_keys = ("doc_id", "table_id", "id")
    schema = schemas.COLUMN
    page_size = 100

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
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

    def _listing(self, context: Context) -> t.Iterator[dict[str, t.Any]]:
        """The columns read ahead (see tap_coda.pipeline), else a request now."""
        read_ahead = self.services.read_ahead
        read = (
            read_ahead.take("columns", context["doc_id"], context["table_id"])
            if read_ahead
            else None
        )
        yield from shapes.checked(
            "column", read.result() if read else self.request_records(context)
        )


class FailuresStream(Stream):
    """Every object of this run that could not be backed up; synced after all docs."""

    name = "failures"
    primary_keys = ("id",)  # warehouses such as target-duckdb want a key on every stream
    schema = schemas.FAILURE

    def __init__(self, tap: Tap, services: Services) -> None:
        self.services = services
        super().__init__(tap)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        yield from ({**f, "id": failure_id(f)} for f in self.services.ledger.failures)
