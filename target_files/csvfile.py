"""Tables as CSV: the one place for headers, cells and the CSV dialect.

UTF-8, `newline=''`, RFC 4180 quoting (Python's `excel` dialect). The header is six row
fields then the columns in `position` order, named by the column names; duplicates
(including clashes with the six row fields) become `Name`, `Name__2`, `Name__3`. Cells:
strings and numbers as they are, booleans `true`/`false`, arrays and objects as compact
JSON, null as empty. Rows are written one at a time: a table never sits in memory.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import sys
import typing as t
from collections.abc import Iterable, Iterator, Mapping, Sequence

from target_files import jsonio

ROW_FIELDS: tuple[str, ...] = (
    "_row_id",
    "_row_name",
    "_row_index",
    "_created_at",
    "_updated_at",
    "_browser_link",
)
#: The Row object's key behind each of ROW_FIELDS.
ROW_KEYS: tuple[str, ...] = ("id", "name", "index", "createdAt", "updatedAt", "browserLink")
#: Python's default cell limit is 128 KiB; Coda text cells can be larger.
FIELD_SIZE_LIMIT = 2**31 - 1


def ordered_columns(columns: Iterable[Mapping[str, t.Any]]) -> list[Mapping[str, t.Any]]:
    """Columns in `position` order (arrival order where positions tie or are missing)."""
    indexed = list(enumerate(columns))

    def key(item: tuple[int, Mapping[str, t.Any]]) -> tuple[int, int, int]:
        i, col = item
        pos = col.get("position")
        return (0, int(pos), i) if isinstance(pos, (int, decimal.Decimal)) else (1, 0, i)

    return [col for _, col in sorted(indexed, key=key)]


def dedupe(names: Sequence[str], taken: Iterable[str] = ()) -> list[str]:
    """Unique names: the first of each keeps it, later ones get `__2`, `__3`…

    Two passes, so a column literally called `Name__2` keeps its name and a duplicate
    `Name` skips over it. Comparison is exact (CSV headers are case-sensitive).
    """
    used = set(taken)
    out: list[str | None] = []
    for name in names:
        if name in used:
            out.append(None)
        else:
            used.add(name)
            out.append(name)
    result: list[str] = []
    for name, assigned in zip(names, out, strict=True):
        if assigned is not None:
            result.append(assigned)
            continue
        n = 2
        while f"{name}__{n}" in used:
            n += 1
        used.add(f"{name}__{n}")
        result.append(f"{name}__{n}")
    return result


def column_label(column: Mapping[str, t.Any]) -> str:
    """A column's header text: its name, or its id when the name is empty."""
    name = column.get("name")
    return str(name) if name not in (None, "") else str(column.get("id", ""))


def header(columns: Sequence[Mapping[str, t.Any]]) -> list[str]:
    """The header row for columns already in `position` order."""
    return list(ROW_FIELDS) + dedupe([column_label(c) for c in columns], taken=ROW_FIELDS)


def cell(value: object) -> str:  # noqa: PLR0911 (one return per JSON type reads best)
    """One CSV cell from one JSON value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple, dict)):
        return jsonio.compact(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def row_cells(row: Mapping[str, t.Any], column_ids: Sequence[str]) -> list[str]:
    """The cells of one Row object: its own fields, then `values` by column id."""
    values = row.get("values") or {}
    # Most cells are strings, which are their own cell: no call for them (rows are the
    # target's hot path).
    return [v if type(v) is str else cell(v) for v in map(row.get, ROW_KEYS)] + [
        v if type(v) is str else cell(v) for v in map(values.get, column_ids)
    ]


def writer(handle: t.TextIO) -> t.Any:
    """A csv writer for a handle opened with newline='' and UTF-8."""
    return csv.writer(handle, dialect="excel")


def reader(handle: t.TextIO) -> Iterator[list[str]]:
    """Read back a CSV of this module (large cells allowed)."""
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(min(FIELD_SIZE_LIMIT, sys.maxsize))
    return csv.reader(handle, dialect="excel")


def remap(cells: Sequence[str], old_ids: Sequence[str], new_ids: Sequence[str]) -> list[str]:
    """A row of a CSV whose columns were `old_ids` laid out for `new_ids` (by column id;
    a column the old file did not have is empty)."""
    by_id = dict(zip(old_ids, cells[len(ROW_FIELDS) :], strict=False))
    return list(cells[: len(ROW_FIELDS)]) + [by_id.get(c, "") for c in new_ids]
