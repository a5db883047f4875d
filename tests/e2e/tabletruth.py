"""The fake's ground truth for the table streams: what each cell must be once typed.

Computed from the workspace's stored values (simpleWithArrays form, see
`fakecoda.workspace.Row`) and the column's format, independently of the tap's parsing;
`normal` turns what a target gives back (JSON from target-jsonl, psycopg's Python values)
into one comparable form.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from decimal import Decimal

from tap_coda import sqlnames

if t.TYPE_CHECKING:
    from fakecoda import Column, Doc, Table, Workspace

#: The streams of docs/RECORDS.md's first table (the backup's generic ones, without the
#: doc-level extras such as formulas or assets).
GENERIC = frozenset(
    ("docs", "pages", "page_contents", "tables", "columns", "rows", "table_syncs", "failures")
)
NUMBERS = {"number", "percent", "currency", "slider", "scale", "duration"}


def stream_name_of(ws: Workspace, doc: Doc, table: Table) -> str:
    """The name discovery gives `table` (the names of every base table of the account)."""
    refs = [
        sqlnames.TableRef(d.id, tb.id, d.name, tb.name)
        for d, tb in ws.iter_tables()
        if tb.table_type == "table"
    ]
    return sqlnames.stream_names(refs)[doc.id, table.id]


def base_tables(ws: Workspace) -> dict[str, tuple[Doc, Table]]:
    """Each base table of the workspace by the name of its table stream."""
    return {
        stream_name_of(ws, doc, table): (doc, table)
        for doc, table in ws.iter_tables()
        if table.table_type == "table"
    }


def expected_item(ws: Workspace, doc: Doc, column: Column, value: t.Any) -> t.Any:  # noqa: PLR0911
    kind = column.format.get("type")
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return [expected_item(ws, doc, column, v) for v in value]
    if kind == "currency" and isinstance(value, str):
        return Decimal(re.sub(r"[^0-9.\-]", "", value))
    if kind in NUMBERS:
        return Decimal(str(value))
    if kind == "checkbox":
        return bool(value)
    if kind == "date":
        return dt.date.fromisoformat(value[:10])
    if kind == "dateTime":
        return dt.datetime.fromisoformat(value)
    if kind == "person":
        return {"name": value, "email": ws.email_of(value)}
    if kind == "lookup":
        target = next(tb for tb in doc.tables if tb.id == column.format["table"]["id"])
        row = ws.row_named(doc, target, str(value))
        return {"name": value, "rowId": row.id if row else None}
    if kind == "link":
        return {"url": value}
    if kind == "image":
        return {"url": value}
    return value if isinstance(value, str) else str(value)


def expected_cell(ws: Workspace, doc: Doc, column: Column, value: t.Any) -> t.Any:
    item = expected_item(ws, doc, column, value)
    if column.format.get("isArray") and item is not None and not isinstance(item, list):
        return [item]
    return item


def normal(value: t.Any, expected: t.Any) -> t.Any:  # noqa: PLR0911
    """`value` as a target gave it back, in the form of `expected` (objects: only the
    keys the truth names)."""
    if value is None:
        return None
    if isinstance(expected, Decimal):
        return Decimal(str(value)).normalize() if not isinstance(value, bool) else value
    if isinstance(expected, dict) and isinstance(value, dict):
        return {k: value.get(k) for k in expected}
    if isinstance(expected, list) and isinstance(value, list):
        return [normal(v, e) for v, e in zip(value, expected, strict=False)]
    if isinstance(expected, dt.datetime) and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if isinstance(expected, dt.datetime) and isinstance(value, dt.datetime):
        # target-postgres stores `timestamp without time zone`, in UTC
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(expected, dt.date) and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def comparable(expected: t.Any) -> t.Any:
    if isinstance(expected, Decimal):
        return expected.normalize()
    if isinstance(expected, list):
        return [comparable(e) for e in expected]
    return expected


def assert_table_matches(
    ws: Workspace, doc: Doc, table: Table, rows: t.Iterable[t.Mapping[str, t.Any]]
) -> None:
    """Every row of `table` is in `rows` (records or database rows, by `_row_id`) and
    every cell of it is its typed truth; no other row is."""
    got = {row["_row_id"]: row for row in rows}
    truth = ws.rows_of(doc, table)
    assert set(got) == {row.id for row in truth}, table.name
    names = sqlnames.property_names([{"id": c.id, "name": c.name} for c in table.columns])
    for row in truth:
        record = got[row.id]
        assert record["_row_name"] == (row.name or None)
        assert normal(record["_updated_at"], dt.datetime.fromisoformat(row.updated_at)) == (
            dt.datetime.fromisoformat(row.updated_at)
        )
        for column, prop in zip(table.columns, names, strict=True):
            want = expected_cell(ws, doc, column, row.values.get(column.id))
            assert normal(record[prop], want) == comparable(want), (table.name, row.id, prop)
