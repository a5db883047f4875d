"""Rows as Coda serves them: each cell in `simple`, `simpleWithArrays` or `rich` form
(NOTES §7, §13.11-§13.12), and the `Row` JSON of `listRows` and `getRow`.

`row_renderer` does a table's per-column work once, so rendering thousands of rows of it
stays cheap (the fake's hot path).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fakecoda.render import SCHEMA_ORG, page_of, person, simple_text, table_link

if TYPE_CHECKING:
    from fakecoda.workspace import Column, Doc, Row, Table, Workspace

CellFn = Callable[[Any], Any]


def _swa(value: Any) -> Any:
    # Coda has no null cell: a blank cell reads as "" in every format.
    if value is None:
        return ""
    if isinstance(value, list):
        return [_swa(v) for v in value]
    return value


def _simple(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return simple_text(value)  # multi-value cells collapse to one comma-joined string
    return value


def _elementwise(fn: CellFn) -> CellFn:
    def apply(value: Any) -> Any:
        if value is None or value == "":
            return ""
        if isinstance(value, list):
            return [apply(v) for v in value]
        return fn(value)

    return apply


def _money(code: str) -> CellFn:
    def fn(value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            amount: Any = value
        else:
            digits = re.sub(r"[^0-9.\-]", "", str(value))
            try:
                amount = float(digits) if "." in digits else int(digits)
            except ValueError:
                return value
        return {
            "@context": SCHEMA_ORG,
            "@type": "MonetaryAmount",
            "currency": code,
            "amount": amount,
        }

    return fn


def _lookup_fn(ws: Workspace, doc: Doc, column: Column) -> CellFn:
    ref = column.format.get("table") or {}
    target = next((t for t in doc.tables if t.id == ref.get("id")), None)
    if target is None:
        return _swa
    target_link = table_link(doc, target, page_of(doc, target.parent_page_id))

    def row_value(v: Any) -> Any:
        row = ws.row_named(doc, target, str(v))
        if row is None:
            return v
        return {
            "@context": SCHEMA_ORG,
            "@type": "StructuredValue",
            "additionalType": "row",
            "name": row.name,
            "url": f"{target_link}/_ru{row.id}",
            "tableId": target.id,
            "rowId": row.id,
            "tableUrl": target_link,
        }

    return _elementwise(row_value)


def image_object(url: Any) -> dict[str, Any]:
    """An image cell (its URL in the workspace) as rich `ImageUrlValue`."""
    name = str(url).rsplit("/", 1)[-1]
    return {
        "@context": SCHEMA_ORG,
        "@type": "ImageObject",
        "name": name,
        "url": str(url),
        "status": "live",
    }


def rich_cell_fn(ws: Workspace, doc: Doc, column: Column) -> CellFn:
    """`rich` rendering per column type (NOTES §7): Markdown text, JSON-LD objects;
    numbers, booleans, dates, emails and selects stay scalars."""
    kind = column.format.get("type", "text")
    makers: dict[str, Callable[[], CellFn]] = {
        "text": lambda: _elementwise(lambda v: f"```{v}```" if isinstance(v, str) else v),
        "person": lambda: _elementwise(lambda v: person(ws, str(v))),
        "currency": lambda: _elementwise(_money(str(column.format.get("currencyCode", "USD")))),
        "link": lambda: _elementwise(
            lambda v: {"@context": SCHEMA_ORG, "@type": "WebPage", "url": str(v)}
        ),
        "lookup": lambda: _lookup_fn(ws, doc, column),
        "image": lambda: _elementwise(image_object),
    }
    maker = makers.get(kind)
    return maker() if maker else _swa


def row_renderer(
    ws: Workspace,
    doc: Doc,
    table: Table,
    *,
    value_format: str,
    base: str,
    use_column_names: bool = False,
) -> Callable[[Row, int], dict[str, Any]]:
    """Precomputes per-table work so rendering thousands of rows stays cheap."""
    page = page_of(doc, table.parent_page_id)
    link = table_link(doc, table, page)
    href = f"{base}/docs/{doc.id}/tables/{table.id}/rows/"
    cols: list[tuple[str, str, CellFn]] = []
    for col in table.columns:
        if value_format == "rich":
            fn = rich_cell_fn(ws, doc, col)
        elif value_format == "simple":
            fn = _simple
        else:
            fn = _swa
        cols.append((col.id, col.name if use_column_names else col.id, fn))

    def render_row(row: Row, index: int) -> dict[str, Any]:
        values = row.values
        return {
            "id": row.id,
            "type": "row",
            "href": href + row.id,
            "name": row.name,
            "index": index,
            "browserLink": f"{link}/_ru{row.id}",
            "createdAt": row.created_at,
            "updatedAt": row.updated_at,
            "values": {key: fn(values.get(cid)) for cid, key, fn in cols},
        }

    return render_row


def row_json(
    ws: Workspace,
    doc: Doc,
    table: Table,
    row: Row,
    index: int,
    *,
    value_format: str,
    base: str,
    use_column_names: bool = False,
) -> dict[str, Any]:
    render_row = row_renderer(
        ws, doc, table, value_format=value_format, base=base, use_column_names=use_column_names
    )
    return render_row(row, index)
