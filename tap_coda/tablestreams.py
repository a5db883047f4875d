"""One typed stream per Coda table (setting `table_streams`, issue #15).

Discovery lists the docs, tables and columns the other settings select and makes one
`TableStream` per base table (views too with `table_stream_views`), named by
`tap_coda.sqlnames` and typed by `tap_coda.cells`. A table stream reads its table's rows
as the `rows` stream does (the same sync-token plan, bookmarked in the table stream's own
state), in `rich` format, and emits one flat record per row. A full read sends records of
a new table version and then ACTIVATE_VERSION, so a target that honours it removes (or
marks `_sdc_deleted_at`) the rows that are gone.
"""

from __future__ import annotations

import time
import typing as t
from collections import Counter
from dataclasses import dataclass, fields

from singer_sdk import singerlib as singer

from tap_coda import cells, decisions, sqlnames
from tap_coda.ledger import fingerprint
from tap_coda.responses import json_body
from tap_coda.rows import RowsStream
from tap_coda.streams import OBJECT_ERRORS

if t.TYPE_CHECKING:
    from singer_sdk import Stream, Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_coda.services import Services
    from tap_coda.streams import ColumnsStream, DocsStream, TablesStream


# Catalog metadata naming the source: singer-sdk writes a field `a_b` as the key `a-b`.
@dataclass(slots=True)
class _TableMetadata(singer.StreamMetadata):
    coda_doc_id: str | None = None
    coda_table_id: str | None = None


@dataclass(slots=True)
class _ColumnMetadata(singer.Metadata):
    coda_column_id: str | None = None


_TS = {"type": ["string", "null"], "format": "date-time"}
_ROW_PROPERTIES: dict[str, dict[str, t.Any]] = {
    "_row_id": {"type": "string"},
    "_row_name": {"type": ["string", "null"]},
    "_row_index": {"type": ["integer", "null"]},
    "_created_at": _TS,
    "_updated_at": _TS,
    "_browser_link": {"type": ["string", "null"]},
}


@dataclass(frozen=True)
class TableSpec:
    """What discovery learnt of one table: enough to name, type and read it."""

    doc_id: str
    doc_name: str | None
    table_id: str
    table_name: str | None
    table_type: str
    columns: tuple[dict[str, t.Any], ...]

    def ref(self) -> sqlnames.TableRef:
        return sqlnames.TableRef(self.doc_id, self.table_id, self.doc_name, self.table_name)


def table_schema(
    columns: t.Sequence[t.Mapping[str, t.Any]], names: t.Sequence[str]
) -> dict[str, t.Any]:
    """The stream's JSON schema: the six row fields, one property per column, `_unparsed`."""
    properties: dict[str, t.Any] = dict(_ROW_PROPERTIES)
    for column, name in zip(columns, names, strict=True):
        properties[name] = cells.column_schema(column.get("format"))
    # No `properties` (as schemas.OBJ): flattening would drop the property with them.
    properties[sqlnames.UNPARSED] = {
        "type": ["object", "null"],
        "additionalProperties": {"type": "string"},
    }
    return {"type": "object", "properties": properties, "required": ["_row_id"]}


def discover(docs: DocsStream, tables: TablesStream, columns: ColumnsStream) -> list[TableSpec]:
    """Every table (and view, when asked for) of the selected docs, with its columns.

    A doc or table that cannot be listed is logged and left out of this catalog: the next
    discovery tries again; the doc listing itself failing fails the discovery."""
    settings = docs.settings
    found: list[TableSpec] = []
    for doc in docs._list_docs(None):  # noqa: SLF001 - the docs stream's own listing rule
        if decisions.doc_is_over_size_limit(doc):
            continue
        try:
            refs = list(tables.request_records({"doc_id": doc["id"]}))
        except OBJECT_ERRORS as exc:
            docs.logger.warning("Tables of doc %s not listed: %s", doc["id"], exc)
            continue
        for ref in refs:
            kind = ref.get("tableType") or "table"
            if kind == "view" and not settings.table_stream_views:
                continue
            context = {"doc_id": doc["id"], "table_id": ref["id"]}
            try:
                listed = tuple(columns.request_records(context))
            except OBJECT_ERRORS as exc:
                docs.logger.warning("Columns of table %s not listed: %s", ref["id"], exc)
                continue
            found.append(
                TableSpec(doc["id"], doc.get("name"), ref["id"], ref.get("name"), kind, listed)
            )
    return found


def table_streams(
    tap: Tap, services: Services, specs: t.Sequence[TableSpec], taken: t.Iterable[str]
) -> list[TableStream]:
    names = sqlnames.stream_names([s.ref() for s in specs], taken=taken)
    return [TableStream(tap, services, spec, names[spec.doc_id, spec.table_id]) for spec in specs]


class TableStream(RowsStream):
    """One Coda table's rows as flat, typed records (`_row_id` is the key)."""

    # A top-level stream (RowsStream's parent and key do not apply).
    parent_stream_type = None  # type: ignore[assignment]
    primary_keys = ("_row_id",)  # type: ignore[assignment]
    replication_key = "_updated_at"
    # As the rows stream: one bookmark per table, whatever else its context says.
    state_partitioning_keys: t.ClassVar[list[str] | None] = ["doc_id", "table_id"]

    def __init__(self, tap: Tap, services: Services, spec: TableSpec, name: str) -> None:
        self.name = name
        self.spec = spec
        self.column_ids = [str(c["id"]) for c in spec.columns]
        self.property_names = sqlnames.property_names(spec.columns)
        parsers = [cells.parser_for(c.get("format")) for c in spec.columns]
        self._cells = list(zip(self.column_ids, self.property_names, parsers, strict=True))
        self._unfit: Counter[str] = Counter()
        super().__init__(tap, services)
        self.schema = table_schema(spec.columns, self.property_names)

    @property
    def metadata(self) -> singer.MetadataMapping:
        """singer-sdk's metadata, each entry also naming the Coda ids it comes from."""
        mapping = super().metadata
        root = mapping.root
        if not isinstance(root, _TableMetadata):
            mapping[()] = _TableMetadata(
                **{f.name: getattr(root, f.name) for f in fields(root)},
                coda_doc_id=self.spec.doc_id,
                coda_table_id=self.spec.table_id,
            )
        for column_id, name in zip(self.column_ids, self.property_names, strict=True):
            entry = mapping.get(("properties", name))
            if entry is not None and not isinstance(entry, _ColumnMetadata):
                mapping["properties", name] = _ColumnMetadata(
                    **{f.name: getattr(entry, f.name) for f in fields(entry)},
                    coda_column_id=column_id,
                )
        return mapping

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        # `rich` keeps amounts, people, lookups and links exact (tap_coda.cells).
        return {**super().get_url_params(context, next_page_token), "valueFormat": "rich"}

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        spec = self.spec
        try:
            table = json_body(self.call("GET", f"/docs/{spec.doc_id}/tables/{spec.table_id}"))
        except OBJECT_ERRORS as exc:
            where = {"doc_id": spec.doc_id}
            self.fail(where, exc, object_type="table", object_id=spec.table_id, name=self.name)
            return
        tables = t.cast("TablesStream", self._tap.streams["tables"])
        table_context = tables.get_child_context({**table, "doc_id": spec.doc_id}, None)
        key = (spec.doc_id, spec.table_id)
        self.ledger.column_fingerprints[key] = fingerprint(spec.columns)
        yield from super().get_records(table_context)
        outcome = self.ledger.table_outcomes.pop(key, None)
        self._report_unfit()
        if (
            outcome
            and outcome.mode == "full"
            and self._stream_version
            and not self.settings.dry_run
        ):
            self._write_activate_version_message(self._stream_version)
        self._stream_version = None

    def _rows_to_read(
        self, context: Context, state: dict[str, t.Any], planned: decisions.RowsMode
    ) -> tuple[decisions.RowsMode, t.Iterable[dict[str, t.Any]]]:
        mode, rows = super()._rows_to_read(context, state, planned)
        # A full read is a new table version: its records carry it, ACTIVATE_VERSION ends it.
        self._stream_version = int(time.time() * 1000) if mode == "full" else None
        return mode, rows

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        values = row.get("values") or {}
        record: dict[str, t.Any] = {
            "_row_id": row.get("id"),
            "_row_name": row.get("name") or None,
            "_row_index": row.get("index"),
            "_created_at": row.get("createdAt"),
            "_updated_at": row.get("updatedAt"),
            "_browser_link": row.get("browserLink"),
        }
        unfit: dict[str, str] | None = None
        for column_id, name, parse in self._cells:
            value = values.get(column_id)
            try:
                record[name] = parse(value)
            except cells.UnfitError:
                record[name] = None
                unfit = unfit or {}
                unfit[name] = cells.unfit_text(value)
                self._unfit[name] += 1
        record[sqlnames.UNPARSED] = unfit
        return record

    def _report_unfit(self) -> None:
        for name, count in sorted(self._unfit.items()):
            self.logger.warning(
                "%s: %d value(s) of column %r do not fit its type; kept as strings in %s",
                self.name,
                count,
                name,
                sqlnames.UNPARSED,
            )
        self._unfit.clear()


def all_streams(tap: Tap, services: Services, generic: t.Sequence[Stream]) -> list[Stream]:
    """The generic streams, then (with `table_streams`) one per table, `failures` last."""
    if not services.settings.table_streams:
        return list(generic)
    by_name = {s.name: s for s in generic}
    specs = discover(
        t.cast("DocsStream", by_name["docs"]),
        t.cast("TablesStream", by_name["tables"]),
        t.cast("ColumnsStream", by_name["columns"]),
    )
    made = table_streams(tap, services, specs, taken=by_name)
    *head, last = generic
    return [*head, *made, last]
