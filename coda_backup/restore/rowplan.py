"""What `restore rows` writes: the saved rows against the live table (pure, no I/O).

- Columns: the saved table's columns are matched to the live table's by id (the same
  table) or by name (another table); a calculated live column is never written; a saved
  column with no live match is an error (`ColumnMismatchError`), so nothing is half-restored.
- Rows: a saved row whose id is live with other cells → an update of those cells; a saved
  row whose id is gone → an insert, unless a live row that is not in the snapshot holds
  exactly its cells: that is its earlier restore (Coda gave it a new id), so nothing is
  written and the old id maps to that row. That is what makes a second run, or a run after
  an interruption, plan nothing twice. Live rows in neither are "added since": left
  alone, or deleted with `--delete-added`.
- Cells are compared as the CSV shows them (`target_files.csvfile.cell`), so a snapshot read
  from a CSV compares like one read from rows.jsonl.
"""

from __future__ import annotations

import typing as t
from collections import defaultdict
from dataclasses import dataclass, field

from target_files import jsonio
from target_files.csvfile import cell

if t.TYPE_CHECKING:
    from coda_backup.restore.snapshot import SavedRow

#: Coda's write limits (NOTES.md §12): 2 MB per request, 85 KB per row. Requests are built
#: with room for the envelope; at most MAX_ROWS_PER_REQUEST rows go in one upsert, so one
#: mutation stays small enough for Coda to apply in seconds and a failure redoes little.
MAX_REQUEST_BYTES = 2 * 1024 * 1024 - 4096
MAX_ROW_BYTES = 85 * 1024
MAX_ROWS_PER_REQUEST = 100
MAX_IDS_PER_DELETE = 500


class ColumnMismatchError(Exception):
    """Saved columns that have no live counterpart: one line naming them."""


@dataclass(frozen=True)
class ColumnMap:
    pairs: dict[str, str]  # saved column id -> live column id, writable columns only
    calculated: list[str]  # names of saved columns not written: calculated in the live table


def map_columns(
    saved: list[dict[str, t.Any]], live: list[dict[str, t.Any]], *, by_name: bool
) -> ColumnMap:
    key = "name" if by_name else "id"
    live_by: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    for column in live:
        live_by[str(column.get(key))].append(column)
    pairs, calculated, unmatched, ambiguous = {}, [], [], []
    for column in saved:
        found = live_by.get(str(column.get(key)), [])
        if column.get("calculated"):
            calculated.append(str(column.get("name")))  # never written, wherever it goes
        elif not found:
            unmatched.append(str(column.get("name")))
        elif len(found) > 1:
            ambiguous.append(str(column.get("name")))
        elif found[0].get("calculated"):
            calculated.append(str(column.get("name")))
        else:
            pairs[str(column["id"])] = str(found[0]["id"])
    if unmatched or ambiguous:
        how = "name" if by_name else "id"
        parts = [f"no live column with the same {how} for {unmatched}"] if unmatched else []
        parts += [f"several live columns named {ambiguous}"] if ambiguous else []
        raise ColumnMismatchError("; ".join(parts))
    return ColumnMap(pairs, calculated)


@dataclass(frozen=True)
class LiveRow:
    id: str
    values: dict[str, t.Any]


@dataclass
class RowPlan:
    inserts: list[tuple[str, dict[str, t.Any]]] = field(default_factory=list)  # old id, cells
    updates: list[tuple[str, dict[str, t.Any]]] = field(default_factory=list)  # live id, cells
    deletes: list[str] = field(default_factory=list)  # live ids added since
    restored: dict[str, str] = field(default_factory=dict)  # old id -> new id, from earlier
    unchanged: int = 0
    added_since: int = 0  # live rows not in the snapshot, left alone
    too_big: list[str] = field(default_factory=list)  # saved rows over 85 KB: not written
    sizes: dict[str, int] = field(default_factory=dict)  # old id -> its RowEdit's bytes
    _batches: list[list[tuple[str, dict[str, t.Any]]]] | None = None

    @property
    def empty(self) -> bool:
        return not (self.inserts or self.updates or self.deletes)

    def batches(self) -> list[list[tuple[str, dict[str, t.Any]]]]:
        """The inserts as upserts within Coda's limits (worked out once)."""
        if self._batches is None:
            self._batches = insert_batches(self.inserts, self.sizes)
        return self._batches


def _text(values: t.Mapping[str, t.Any], ids: t.Iterable[str]) -> tuple[str, ...]:
    return tuple(cell(values.get(i)) for i in ids)


def plan_rows(
    saved: list[SavedRow], live: list[LiveRow], columns: ColumnMap, *, delete_added: bool
) -> RowPlan:
    plan = RowPlan()
    saved_ids, live_ids = list(columns.pairs), list(columns.pairs.values())
    live_by_id = {row.id: row for row in live}
    in_snapshot = {row.id for row in saved}
    # Live rows not in the snapshot, by their cells: candidates for earlier restores.
    spare: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for live_row in live:
        if live_row.id not in in_snapshot:
            spare[_text(live_row.values, live_ids)].append(live_row.id)
    for row in saved:
        cells = {columns.pairs[k]: row.values.get(k) for k in saved_ids}
        current = live_by_id.get(row.id)
        if current is not None:
            changed = {k: v for k, v in cells.items() if cell(v) != cell(current.values.get(k))}
            if changed:
                plan.updates.append((row.id, changed))
            else:
                plan.unchanged += 1
            continue
        earlier = spare.get(_text(cells, live_ids))
        if earlier:
            plan.restored[row.id] = earlier.pop(0)
        else:
            kept = {k: v for k, v in cells.items() if cell(v) != ""}
            size = len(row_edit(kept))
            if size > MAX_ROW_BYTES:
                plan.too_big.append(row.id)
            else:
                plan.inserts.append((row.id, kept))
                plan.sizes[row.id] = size
    order = {row.id: n for n, row in enumerate(live)}
    left = sorted((row_id for ids in spare.values() for row_id in ids), key=order.__getitem__)
    if delete_added:
        plan.deletes = left
    else:
        plan.added_since = len(left)
    return plan


def row_edit(cells: t.Mapping[str, t.Any]) -> bytes:
    """One `RowEdit` as sent (its size counts against the 85 KB row limit)."""
    edit = {"cells": [{"column": k, "value": "" if v is None else v} for k, v in cells.items()]}
    return jsonio.compact(edit).encode()


def insert_batches(
    inserts: list[tuple[str, dict[str, t.Any]]], sizes: t.Mapping[str, int] | None = None
) -> list[list[tuple[str, dict[str, t.Any]]]]:
    """Inserts grouped into upserts within the request size and row count limits."""
    batches: list[list[tuple[str, dict[str, t.Any]]]] = []
    size = 0
    for item in inserts:
        known = sizes.get(item[0]) if sizes else None
        row_size = (known if known is not None else len(row_edit(item[1]))) + 1
        if (
            not batches
            or len(batches[-1]) >= MAX_ROWS_PER_REQUEST
            or size + row_size > MAX_REQUEST_BYTES
        ):
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += row_size
    return batches


def delete_batches(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + MAX_IDS_PER_DELETE] for i in range(0, len(ids), MAX_IDS_PER_DELETE)]


def write_requests(plan: RowPlan) -> int:
    """How many write requests the plan takes."""
    return len(plan.batches()) + len(plan.updates) + len(delete_batches(plan.deletes))
