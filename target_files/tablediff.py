"""Two CSVs of one table compared by `_row_id`, cell by cell, in flat memory.

The old CSV is streamed into an SQLite table in a temporary file (row id → its cells);
the new CSV is then streamed against it: a row id not there is added, one there with
other cells is changed (and which columns), and whatever old rows are left at the end
were removed. Nothing holds a whole table in memory, so a million-row table costs what
SQLite's page cache costs. Cells are compared per column id (the manifest's
`csvColumns`; header names when absent) over the columns both runs have, so adding a
column changes no row. The six `_row_…` fields are not compared: `_row_index` moves
whenever a row above is added or removed, and `_updated_at` moves with the edit itself.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

ROW_FIELDS = ("_row_id", "_row_name", "_row_index", "_created_at", "_updated_at", "_browser_link")
BATCH = 5000

csv.field_size_limit(2**31 - 1)  # a cell may hold a whole document


@dataclass
class TableChange:
    rows_added: list[str] = field(default_factory=list)
    rows_removed: list[str] = field(default_factory=list)
    #: {"id": row id, "columns": [column ids whose cell changed]}
    rows_changed: list[dict[str, t.Any]] = field(default_factory=list)
    columns_added: list[dict[str, str]] = field(default_factory=list)
    columns_removed: list[dict[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (
                self.rows_added,
                self.rows_removed,
                self.rows_changed,
                self.columns_added,
                self.columns_removed,
            )
        )


def column_keys(header: list[str], column_ids: t.Sequence[str] | None) -> list[str]:
    """A key per data column of a CSV: the column id when the manifest gives them in
    the CSV's order, else the header text."""
    data = header[len(ROW_FIELDS) :]
    if column_ids and len(column_ids) == len(data):
        return [str(c) for c in column_ids]
    return data


def _open_rows(path: Path) -> tuple[list[str], t.Iterator[list[str]], t.IO[str]]:
    handle = path.open(encoding="utf-8", newline="")
    reader = csv.reader(handle)
    header = next(reader, [])
    return header, reader, handle


def diff_tables(
    db: sqlite3.Connection,
    old_csv: Path,
    new_csv: Path,
    old_columns: t.Sequence[str] | None = None,
    new_columns: t.Sequence[str] | None = None,
) -> TableChange:
    change = TableChange()
    old_header, old_rows, old_handle = _open_rows(old_csv)
    new_header, new_rows, new_handle = _open_rows(new_csv)
    with old_handle, new_handle:
        old_keys = column_keys(old_header, old_columns)
        new_keys = column_keys(new_header, new_columns)
        old_names = dict(zip(old_keys, old_header[len(ROW_FIELDS) :], strict=False))
        new_names = dict(zip(new_keys, new_header[len(ROW_FIELDS) :], strict=False))
        change.columns_added = [
            {"id": k, "name": new_names[k]} for k in new_keys if k not in old_names
        ]
        change.columns_removed = [
            {"id": k, "name": old_names[k]} for k in old_keys if k not in new_names
        ]
        common = [k for k in new_keys if k in old_names]
        width = len(ROW_FIELDS)
        old_at = [width + old_keys.index(k) for k in common]
        new_at = [width + new_keys.index(k) for k in common]
        db.execute("DROP TABLE IF EXISTS old_rows")
        db.execute("CREATE TABLE old_rows (id TEXT PRIMARY KEY, cells TEXT) WITHOUT ROWID")
        _load(db, old_rows, old_at)
        _compare(db, new_rows, new_at, common, change)
        change.rows_removed = [row[0] for row in db.execute("SELECT id FROM old_rows ORDER BY id")]
        db.execute("DROP TABLE old_rows")
    return change


def _cells(row: list[str], at: list[int]) -> list[str]:
    return [row[i] if i < len(row) else "" for i in at]


def _load(db: sqlite3.Connection, rows: t.Iterator[list[str]], at: list[int]) -> None:
    batch: list[tuple[str, str]] = []
    for row in rows:
        if row:
            batch.append((row[0], json.dumps(_cells(row, at), ensure_ascii=False)))
        if len(batch) >= BATCH:
            db.executemany("INSERT OR REPLACE INTO old_rows VALUES (?, ?)", batch)
            batch.clear()
    db.executemany("INSERT OR REPLACE INTO old_rows VALUES (?, ?)", batch)


def _compare(
    db: sqlite3.Connection,
    rows: t.Iterator[list[str]],
    at: list[int],
    common: list[str],
    change: TableChange,
) -> None:
    for row in rows:
        if not row:
            continue
        found = db.execute("DELETE FROM old_rows WHERE id = ? RETURNING cells", (row[0],))
        hit = found.fetchone()
        if hit is None:
            change.rows_added.append(row[0])
            continue
        old_cells = json.loads(hit[0])
        new_cells = _cells(row, at)
        if old_cells != new_cells:
            changed = [k for k, a, b in zip(common, old_cells, new_cells, strict=True) if a != b]
            change.rows_changed.append({"id": row[0], "columns": changed})
