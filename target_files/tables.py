"""A doc's tables and views in the tree: each one's files put in place, its outcome
returned.

The CSV follows the tap's `table_syncs.mode`: `full` → the staged CSV; `unchanged` →
carried from `latest`; `delta` → latest's CSV merged with the new rows by `_row_id`
(changed rows replaced in place, new rows appended in arrival order, laid out for today's
columns); data that failed this run → latest's CSV is kept (`failed`). A table whose
listing failed, or whose columns could not be listed, keeps latest's files (`failed`).
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

from target_files import csvfile, fsutil, layout, outcomes, rowsjson
from target_files.outcomes import FULL_RUN_HINT, CsvOutcome, CsvPlan, TableOutcome
from target_files.previous import MismatchError, merged_rows
from target_files.staging import read_jsonl
from target_files.tree import Carry, Tree

if t.TYPE_CHECKING:
    from target_files.staging import DocStage, TableStage

FILE_KINDS = ("csv", "columns", "table", "rows_json")  # a table's `files` keys, as TABLE_EXTS


@dataclass
class TableNode:
    table_id: str
    name: str | None
    table_type: str | None
    page_id: str | None
    page_name: str | None
    stage: TableStage | None = None  # listed this run
    prev: dict[str, t.Any] | None = None  # its manifest entry in latest
    folder: str = "table"
    base: str = ""  # its path without extension


@dataclass
class TableJob:
    """One listed table's CSV to put in place."""

    doc_id: str
    node: TableNode
    stage: TableStage
    columns: list[t.Mapping[str, t.Any]]
    rel: str

    @functools.cached_property
    def column_ids(self) -> list[str]:
        return [str(c.get("id")) for c in self.columns]

    @property
    def prev(self) -> dict[str, t.Any]:
        return self.node.prev or {}

    def damaged(self, carry: Carry) -> list[dict[str, t.Any]]:
        """The carry check's finding about latest's copy, if any."""
        if not carry.damage:
            return []
        node = self.node
        return [
            outcomes.damaged(
                "table",
                self.doc_id,
                node.table_id,
                node.name,
                path=carry.prev_path,
                reason=carry.damage,
            )
        ]

    def failure(self, error: str, object_type: str = "table") -> dict[str, t.Any]:
        node = self.node
        return outcomes.failure(
            object_type, self.doc_id, node.table_id, node.name, error, path=self.rel
        )


def doc_tables(
    tree: Tree, doc: DocStage, doc_rel: str, objects: dict[str, dict[str, t.Any]]
) -> list[TableOutcome]:
    nodes = _nodes(tree, doc)
    places = layout.table_places(
        [(n.table_id, n.table_type, n.page_name, n.name) for n in nodes.values()]
    )
    for node in nodes.values():
        node.folder, stem = places[node.table_id]
        node.base = f"{doc_rel}/tables/{node.folder}/{stem}"
    return [_table(tree, doc.doc_id, node, objects.get(node.table_id)) for node in nodes.values()]


def _nodes(tree: Tree, doc: DocStage) -> dict[str, TableNode]:
    """The tables listed this run, plus latest's where this run could not list them."""
    prev_tables = tree.prev.tables if tree.prev else {}
    nodes: dict[str, TableNode] = {}
    for table_id in doc.table_ids:
        st = tree.staging.tables[(doc.doc_id, table_id)]
        nodes[table_id] = TableNode(
            table_id, st.name, st.table_type, st.page_id, st.page_name, stage=st
        )
        nodes[table_id].prev = prev_tables.get((doc.doc_id, table_id))
    for (doc_id, table_id), prev in sorted(prev_tables.items()):
        if doc_id != doc.doc_id or table_id in nodes:
            continue
        if doc_id in tree.failed.table_listing or (doc_id, table_id) in tree.failed.tables:
            page = prev.get("page") or {}
            nodes[table_id] = TableNode(
                table_id,
                prev.get("name"),
                prev.get("tableType"),
                page.get("id"),
                page.get("name"),
                prev=prev,
            )
    return nodes


def _table(tree: Tree, doc_id: str, node: TableNode, obj: dict[str, t.Any] | None) -> TableOutcome:
    st, prev = node.stage, node.prev or {}
    entry: dict[str, t.Any] = {
        "id": node.table_id,
        "name": node.name,
        "tableType": node.table_type,
        "page": {"id": node.page_id, "name": node.page_name},
        "updatedAt": st.updated_at if st else prev.get("updatedAt"),
        "rowCount": st.row_count if st else prev.get("rowCount"),
        "path": None,  # its CSV, once there is one
    }
    # Not listed this run because its listing failed, or its columns could not be
    # listed (its rows cannot be laid out: an empty columns.json and a CSV without
    # the values would pass for the table): keep latest's copy, if any.
    if st is None or (doc_id, node.table_id) in tree.failed.columns:
        return _kept(tree, doc_id, node, entry)
    columns = csvfile.ordered_columns(read_jsonl(st.columns_path))
    tree.write_json(node.base + ".table.json", obj or {})
    tree.write_json(node.base + ".columns.json", columns)
    files = {
        "columns": {"path": node.base + ".columns.json", "source": tree.run_id},
        "table": {"path": node.base + ".table.json", "source": tree.run_id},
    }
    mode = str((st.sync or {}).get("mode") or "full")
    job = TableJob(doc_id, node, st, columns, node.base + ".csv")
    plan = outcomes.csv_plan(
        mode, expect_rows=tree.expect_rows, failed=(doc_id, node.table_id) in tree.failed.tables
    )
    csv = _csv(tree, job, plan, mode)
    if csv.source is not None:
        files["csv"] = {"path": job.rel, "source": csv.source}
        entry["path"] = job.rel
    rows_file = rowsjson.place(tree, job, plan, csv)
    if rows_file is not None:
        files["rows_json"] = rows_file
    missing = outcomes.missing_values(st.late_columns, st.unknown_ids)
    if missing:
        error = (
            f"row values of columns {missing} are not in the CSV (columns arrived after "
            f"rows, or rows named unknown columns); {FULL_RUN_HINT}"
        )
        csv.failures.append(job.failure(error, "rows"))
    entry.update(
        syncMode=mode,
        status=outcomes.table_status(csv.status, missing),
        csvRows=csv.rows,
        csvColumns=csv.columns,
        files=files,
    )
    _skip(tree, doc_id, node, entry, csv.failures)
    return TableOutcome(
        entry, node.folder, csv.rows_written, csv.failures, csv.carried, csv.damaged
    )


def _skip(
    tree: Tree, doc_id: str, node: TableNode, entry: dict[str, t.Any], failures: list[t.Any]
) -> None:
    skip = (
        doc_id in tree.failed.skipped_docs or (doc_id, node.table_id) in tree.failed.skipped_tables
    )
    entry["status"] = outcomes.skipped(entry["status"], skip=skip, own_failures=bool(failures))


def _kept(tree: Tree, doc_id: str, node: TableNode, entry: dict[str, t.Any]) -> TableOutcome:
    prev = node.prev or {}
    prev_files: dict[str, t.Any] = prev.get("files") or {}
    files, damaged = {}, []
    for kind, ext in zip(FILE_KINDS, layout.TABLE_EXTS, strict=True):
        carry = tree.carry(prev_files.get(kind), node.base + ext)
        if carry.source:
            files[kind] = {"path": node.base + ext, "source": carry.source}
        elif carry.damage:
            damaged.append(
                outcomes.damaged(
                    "table",
                    doc_id,
                    node.table_id,
                    node.name,
                    path=carry.prev_path,
                    reason=carry.damage,
                )
            )
    entry["path"] = files["csv"]["path"] if "csv" in files else None
    entry.update(
        syncMode=None,
        status="failed",
        csvRows=prev.get("csvRows"),
        csvColumns=prev.get("csvColumns"),
        files=files,
    )
    _skip(tree, doc_id, node, entry, [])
    return TableOutcome(entry, node.folder, carried=len(files), damaged=damaged)


def _csv(tree: Tree, job: TableJob, plan: CsvPlan, mode: str) -> CsvOutcome:
    """Put the table's CSV in place as planned."""
    st, prev = job.stage, job.prev
    prev_csv = (prev.get("files") or {}).get("csv")
    if plan is CsvPlan.METADATA_ONLY:
        return CsvOutcome("exported")
    if plan is CsvPlan.KEEP:
        return _keep_csv(tree, job, mode)
    if plan is CsvPlan.CARRY:
        carry = tree.carry(prev_csv, job.rel)
        if carry.source:
            return CsvOutcome(
                "unchanged", carry.source, prev.get("csvRows"), prev.get("csvColumns"), carried=1
            )
        error = f"rows not sent again (unchanged) but {carry.why}; {outcomes.hint(carry.damage)}"
        return CsvOutcome("failed", failures=[job.failure(error)], damaged=job.damaged(carry))
    if plan is CsvPlan.MERGE:
        return _merge(tree, job)
    if st.csv_started and st.column_ids == job.column_ids:
        tree.place(st.csv_path, job.rel)
    else:  # an empty table still gets its header; late columns are laid out anew
        tree.write_csv(job.rel, job.columns, tree.staged_rows(st, job.column_ids))
    return CsvOutcome("exported", tree.run_id, st.rows, job.column_ids, rows_written=st.rows)


def _keep_csv(tree: Tree, job: TableJob, mode: str) -> CsvOutcome:
    """Rows failed this run (or came in an unknown mode)."""
    st, prev = job.stage, job.prev
    failures = []
    if (job.doc_id, job.node.table_id) not in tree.failed.tables:
        failures.append(job.failure(f"unknown table_syncs mode {mode!r}", "rows"))
    carry = tree.carry((prev.get("files") or {}).get("csv"), job.rel)
    if carry.source:  # the earlier complete copy beats a partial one
        rows, columns = prev.get("csvRows"), prev.get("csvColumns")
        return CsvOutcome("failed", carry.source, rows, columns, carried=1, failures=failures)
    out = CsvOutcome("failed", failures=failures, damaged=job.damaged(carry))
    if st.csv_started:  # what did arrive is better than nothing
        tree.place(st.csv_path, job.rel)
        out.source, out.rows, out.columns, out.rows_written = (
            tree.run_id,
            st.rows,
            st.column_ids,
            st.rows,
        )
    return out


def _merge(tree: Tree, job: TableJob) -> CsvOutcome:
    """latest's CSV with the delta's rows (see `previous.merged_rows`)."""
    prev_csv = (job.prev.get("files") or {}).get("csv") or {}
    old_ids = job.prev.get("csvColumns")
    if tree.prev is None or not job.prev or not isinstance(old_ids, list):
        error = f"only changed rows were sent (delta) but latest has no copy of it; {FULL_RUN_HINT}"
        return CsvOutcome("failed", failures=[job.failure(error)])
    checked = tree.prev.check(prev_csv.get("path"))
    src = checked.path
    if src is None:
        damage = checked.damage or "missing"
        carry = Carry(None, damage=damage, prev_path=prev_csv.get("path"))
        error = (
            f"only changed rows were sent (delta) but its CSV in latest ({tree.prev.run_id}) "
            f"is damaged: {damage}; {outcomes.hint(damage)}"
        )
        return CsvOutcome("failed", failures=[job.failure(error)], damaged=job.damaged(carry))
    delta = tree.staged_rows(job.stage, job.column_ids)
    with src.open(encoding=fsutil.ENCODING, newline="") as fin:
        try:
            rows = merged_rows(csvfile.reader(fin), old_ids, job.column_ids, delta)
        except MismatchError:
            error = f"the CSV in latest ({src}) does not match its manifest; {FULL_RUN_HINT}"
            return CsvOutcome("failed", failures=[job.failure(error)])
        count = tree.write_csv(job.rel, job.columns, rows)
    st = job.stage
    return CsvOutcome("exported", tree.run_id, count, job.column_ids, rows_written=st.rows)
