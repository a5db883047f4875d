"""A table's columns and rows as they stream in, written to its staged files at once.

Rows are the hot path and are never held in memory: each goes straight into its table's CSV
(with `rows_json` into a JSON Lines file too). The CSV's header is fixed by the columns seen
before the first row; rows that come before any column (not tap-coda's order, but allowed)
are spooled to a side file and written once the header is known.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_files import csvfile, fsutil, jsonio
from target_files.records import api_object

if t.TYPE_CHECKING:
    from pathlib import Path

    from target_files.records import InvalidRecords


@dataclass
class TableStage:
    doc_id: str
    table_id: str
    seq: int
    csv_path: Path
    columns_path: Path
    early_path: Path
    json_path: Path | None = None  # setting rows_json: the rows as served, JSON Lines
    listed: bool = False
    name: str | None = None
    table_type: str | None = None
    page_id: str | None = None
    page_name: str | None = None
    updated_at: t.Any = None
    row_count: t.Any = None
    #: column id -> the little the header needs (position, name, id)
    columns: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    #: the CSV's column ids, fixed when its header is written
    column_ids: list[str] | None = None
    column_set: frozenset[str] = frozenset()
    rows: int = 0
    early_rows: int = 0
    unknown_ids: set[str] = field(default_factory=set)
    late_columns: list[str] = field(default_factory=list)
    sync: dict[str, t.Any] | None = None
    seen_data: bool = False

    @property
    def csv_started(self) -> bool:
        return self.column_ids is not None


class TableRows:
    """Writes each table's columns file, CSV and rows file through the staging's open files;
    rows whose `values` is not an object are kept (empty cells) and reported to `invalid`."""

    def __init__(self, files: fsutil.OpenFiles, invalid: InvalidRecords) -> None:
        self._files = files
        self._invalid = invalid

    def add_column(self, table: TableStage, record: t.Mapping[str, t.Any]) -> None:
        table.seen_data = True
        col_id = str(record["id"])
        if table.csv_started and col_id not in (table.column_ids or []):
            table.late_columns.append(col_id)
        table.columns[col_id] = {
            "id": col_id,
            "name": record.get("name"),
            "position": record.get("position"),
        }
        handle, _ = self._files.get(table.columns_path)
        handle.write(jsonio.compact(api_object(record)) + "\n")

    def add_row(self, table: TableStage, record: t.Mapping[str, t.Any]) -> None:
        table.seen_data = True
        if not table.csv_started:
            if not table.columns:
                # Columns come first in tap-coda's order; if not, keep the row safe.
                handle, _ = self._files.get(table.early_path)
                handle.write(jsonio.compact(record) + "\n")
                table.early_rows += 1
                return
            self._start_csv(table)
        self._write_row(table, record)

    def finish(self, table: TableStage) -> None:
        """No more columns will come: rows still waiting for them are written now."""
        if not table.csv_started and table.early_rows:
            self._start_csv(table)

    def close(self, table: TableStage) -> None:
        """The table's `tables` record came: its columns and rows have all arrived."""
        self.finish(table)
        for path in (table.csv_path, table.columns_path, table.json_path):
            if path is not None:
                self._files.close(path)

    def _start_csv(self, table: TableStage) -> None:
        columns = csvfile.ordered_columns(table.columns.values())
        table.column_ids = [c["id"] for c in columns]
        table.column_set = frozenset(table.column_ids)
        _, writer = self._files.get(table.csv_path)
        writer.writerow(csvfile.header(columns))
        if table.early_rows:
            self._files.close(table.early_path)
            with table.early_path.open(encoding=fsutil.ENCODING) as spool:
                for line in spool:
                    self._write_row(table, jsonio.loads(line))
            table.early_path.unlink()
            table.early_rows = 0

    def _write_row(self, table: TableStage, record: t.Mapping[str, t.Any]) -> None:
        """One row into its table's staged CSV (rows are the hot path: no more than needed)."""
        if table.json_path is not None:  # the row as served, before any repair below
            self._files.get(table.json_path)[0].write(jsonio.compact(api_object(record)) + "\n")
        values = record.get("values")
        if values is not None and type(values) is not dict:
            # The row is kept (its own fields, empty cells) and reported.
            self._invalid.add("rows", record, f"`values` is not an object: {values!r:.60}")
            record = {**record, "values": None}
        elif values and not values.keys() <= table.column_set:
            table.unknown_ids.update(str(k) for k in values if k not in table.column_set)
        _, writer = self._files.get(table.csv_path)
        writer.writerow(csvfile.row_cells(record, table.column_ids or ()))
        table.rows += 1
