"""What a write's body says, checked as the spec's closed schemas are (openapi.json, NOTES.md
§9-§12): unknown fields, bad values, over 2 MB a request or 85 KB a row are 400s (Coda
answers 400, not 413); rows cannot be written to a view nor into a calculated column.

Pure: each function reads a request body or a table and returns what the write will do, or
raises the `ApiError` Coda answers; `writes.py` queues the change.
"""

from __future__ import annotations

import json
from typing import Any

from fakecoda import htmltext
from fakecoda.protocol import ApiError, Request, Target, dumps
from fakecoda.workspace import Column, Table, markdown_to_html

MAX_REQUEST_BYTES = 2 * 1024 * 1024  # NOTES §11, §12
MAX_ROW_BYTES = 85 * 1024
PAGE_CREATE = {"name", "subtitle", "iconName", "imageUrl", "parentPageId", "pageContent"}
PAGE_UPDATE = {"name", "subtitle", "iconName", "imageUrl", "isHidden", "contentUpdate"}
DOC_CREATE = {"title", "sourceDoc", "timezone", "folderId", "initialPage"}


def read_body(req: Request, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if len(req.body) > MAX_REQUEST_BYTES:
        raise ApiError(400, "Request body is too large: the limit is 2 MB per request.")
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, f"Unknown field in request body: {unknown[0]!r}")
    missing = [name for name in required if name not in body]
    if missing:
        raise ApiError(400, f"Missing required field {missing[0]!r}.")
    return body


def string_field(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string.")
    return value


def is_value(value: Any, depth: int = 0) -> bool:
    """Coda's `Value`: a string, number or boolean, or an array of them (nested once)."""
    if isinstance(value, (str, bool, int, float)):
        return True
    return isinstance(value, list) and depth < 2 and all(is_value(v, depth + 1) for v in value)


def icon(name: str) -> dict[str, str]:
    link = f"https://cdn.coda.io/icons/png/color/{name}-32.png"
    return {"name": name, "type": "image/png", "browserLink": link}


def canvas(content: Any) -> tuple[str, str]:
    """(markdown, html) of a `PageContent`; each format is derived from the other."""
    if not isinstance(content, dict) or set(content) != {"format", "content"}:
        raise ApiError(400, "canvasContent needs exactly 'format' and 'content'.")
    text = content["content"]
    if not isinstance(text, str):
        raise ApiError(400, "canvasContent.content must be a string.")
    if content["format"] == "markdown":
        return text, markdown_to_html(text)
    if content["format"] == "html":
        text = text.rstrip("\n")  # the export adds the final newline back
        return htmltext.html_to_markdown(text), text
    raise ApiError(400, "canvasContent.format must be one of: html, markdown.")


def page_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("name", "subtitle", "iconName", "imageUrl"):
        value = string_field(body, name)
        if value is not None:
            fields[name] = value
    return fields


def page_spec(body: dict[str, Any]) -> dict[str, Any]:
    """A `PageCreate` checked whole and read into what `Writes._add_page` needs."""
    spec = page_fields(body) | {"kind": "canvas", "markdown": "", "html": ""}
    content = body.get("pageContent")
    if content is not None:
        if not isinstance(content, dict) or content.get("type") not in ("canvas", "embed"):
            raise ApiError(400, "pageContent.type must be canvas or embed here.")
        if content["type"] == "canvas":
            if set(content) != {"type", "canvasContent"}:
                raise ApiError(400, "A canvas pageContent holds only canvasContent.")
            spec["markdown"], spec["html"] = canvas(content["canvasContent"])
        else:
            spec["kind"] = "embed"
    return spec


# ---- rows ----------------------------------------------------------------------------------


def writable(table: Table) -> Table:
    if table.table_type == "view":
        raise ApiError(400, "Rows cannot be written through a view; write to its table.")
    return table


def column_of(table: Table, key: Any) -> Column:
    column = next((c for c in table.columns if key in (c.id, c.name)), None)
    if column is None:
        raise ApiError(400, f"Unknown column {key!r} in table {table.id}.")
    return column


def row_cells(table: Table, edit: Any) -> dict[str, Any]:
    """A `RowEdit` as {column id: stored value}; a blank ("") is stored as no value."""
    if not isinstance(edit, dict) or set(edit) != {"cells"} or not isinstance(edit["cells"], list):
        raise ApiError(400, "A row edit is an object holding only 'cells'.")
    if len(dumps(edit)) > MAX_ROW_BYTES:
        raise ApiError(400, "A row is over the size limit of 85 KB.")
    values: dict[str, Any] = {}
    for cell in edit["cells"]:
        if not isinstance(cell, dict) or set(cell) != {"column", "value"}:
            raise ApiError(400, "A cell edit holds exactly 'column' and 'value'.")
        column = column_of(table, cell["column"])
        if column.calculated:
            raise ApiError(400, f"Column {column.id} is calculated and cannot be written.")
        if not is_value(cell["value"]):
            raise ApiError(400, f"Invalid value for column {column.id}.")
        values[column.id] = None if cell["value"] == "" else cell["value"]
    return values


def row_id_of(t: Target) -> str:
    row = next((r for r in t.table.rows if t.key in (r.id, r.name)), None)
    if row is None:
        raise ApiError(404)
    return str(row.id)
