"""The plan and the report of a restore, as text lines (or the same dict as JSON)."""

from __future__ import annotations

import math
import typing as t

from coda_backup.restore import rowplan

if t.TYPE_CHECKING:
    from coda_backup.restore.apply import Applied
    from coda_backup.restore.pageplan import PagePlan
    from coda_backup.restore.rowplan import ColumnMap, RowPlan

#: Coda's write limit (NOTES.md §9): 10 writes per 6 s.
WRITES_PER_WINDOW, WINDOW_SECONDS = 10, 6.0
NOT_RESTORABLE = [
    "tables and views themselves, and their columns: the API cannot create them (rows are "
    "restored into a table that exists, with `restore rows`)",
    "formulas, controls, buttons, automations, sharing and permissions",
    "live tables inside restored pages: a page holds its saved export, tables as static text",
]


def write_bound_seconds(writes: int) -> float:
    """The least time Coda's write limit allows for `writes` requests (a full window per
    ten after the first ten)."""
    return max(0, math.ceil(writes / WRITES_PER_WINDOW) - 1) * WINDOW_SECONDS


def rows_report(plan: RowPlan, columns: ColumnMap, names: dict[str, str]) -> dict[str, t.Any]:
    writes = rowplan.write_requests(plan)
    return {
        "counts": {
            "insert": len(plan.inserts),
            "update": len(plan.updates),
            "update_cells": sum(len(c) for _, c in plan.updates),
            "delete": len(plan.deletes),
            "unchanged": plan.unchanged,
            "restored_earlier": len(plan.restored),
            "added_since_left_alone": plan.added_since,
            "over_row_limit": len(plan.too_big),
        },
        "write_requests": writes,
        "least_seconds": write_bound_seconds(writes),
        "columns_written": [names.get(c, c) for c in columns.pairs.values()],
        "columns_not_written": columns.calculated,
        "objects": {
            "insert": [old for old, _ in plan.inserts],
            "update": [
                {"id": i, "columns": [names.get(c, c) for c in cells]} for i, cells in plan.updates
            ],
            "delete": plan.deletes,
            "over_row_limit": plan.too_big,
        },
        "id_map": dict(plan.restored),
    }


def pages_report(plan: PagePlan, names: dict[str, str]) -> dict[str, t.Any]:
    return {
        "counts": {
            "create": len(plan.creates),
            "hide": sum(1 for c in plan.creates if c.hidden),
            "existing": len(plan.existing),
            "not_restorable": len(plan.skipped),
        },
        "write_requests": plan.writes,
        "least_seconds": write_bound_seconds(plan.writes),
        "objects": {
            "create": [
                {
                    "id": c.old_id,
                    "name": c.body["name"],
                    "under": names.get(c.parent or "", c.parent) or c.live_parent,
                    "content": (c.body.get("pageContent") or {})
                    .get("canvasContent", {})
                    .get("format"),
                    "hidden": c.hidden,
                }
                for c in plan.creates
            ],
            "not_restorable": [{"id": i, "name": n, "why": w} for i, n, w in plan.skipped],
        },
        "id_map": dict(plan.existing),
    }


def add_applied(report: dict[str, t.Any], applied: Applied | None) -> None:
    report["applied"] = applied is not None
    if applied is not None:
        report["writes_sent"], report["writes_confirmed"] = applied.writes, applied.confirmed
        report["id_map"] = {**report["id_map"], **applied.new_ids}
        report["warnings"] = applied.warnings


def text_lines(report: dict[str, t.Any]) -> list[str]:
    counts = report["counts"]
    lines = [
        report["title"],
        "plan: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()),
    ]
    lines.append(
        f"writes: {report['write_requests']} request(s); Coda's write limit (10 per 6 s) "
        f"allows them in {report['least_seconds']:.0f} s at the least"
    )
    if report.get("columns_not_written"):
        lines.append(
            f"not written (calculated columns): {', '.join(report['columns_not_written'])}"
        )
    for kind, objects in report["objects"].items():
        for obj in objects:
            lines.append(f"  {kind.replace('_', ' ')}: {_describe(obj)}")
    for note in report.get("not_restorable_kinds", []):
        lines.append(f"cannot be restored through Coda's API: {note}")
    if not report["applied"]:
        lines.append("nothing written: this is the plan; run again with --apply to write it")
        return lines
    lines.append(
        f"applied: {report['writes_sent']} write(s) sent, "
        f"{report['writes_confirmed']} confirmed by Coda"
    )
    lines += [
        f"  old id {old} -> new id {new}" for old, new in report["id_map"].items() if old != new
    ]
    lines += [f"warning: {w}" for w in report.get("warnings", [])]
    return lines


def _describe(obj: t.Any) -> str:
    if not isinstance(obj, dict):
        return str(obj)
    parts = [f"{k}={v}" for k, v in obj.items() if v not in (None, False, [], "")]
    return ", ".join(parts)
