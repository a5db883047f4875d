"""`manifest.json` and `summary.json`: what the run holds and how it went, each written
once, the last files of the run. Every count is derived from the outcomes here."""

from __future__ import annotations

import logging
import typing as t

from target_files import fsutil, jsonio, outcomes, viewer
from target_files.snapshot import MANIFEST, SUMMARY

if t.TYPE_CHECKING:
    from target_files.assemble import Assembly
    from target_files.tree import Tree

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = 1


def status(assembly: Assembly) -> str:
    return "partial" if assembly.failures else "complete"


def manifest(
    assembly: Assembly, *, run_id: str, created_at: str, previous_run: str | None
) -> dict[str, t.Any]:
    return {
        "format": MANIFEST_FORMAT,
        "run_id": run_id,
        "created_at": created_at,
        "previous_run": previous_run,
        "status": status(assembly),
        "docs": [d.entry for d in assembly.docs],
        "other_streams": assembly.others,
        "failures": assembly.failures,
        "skips": assembly.skips,
        "warnings": assembly.warnings,
    }


def summary(
    assembly: Assembly,
    *,
    run_id: str,
    started_at: str,
    finished_at: str,
    previous_run: str | None,
) -> dict[str, t.Any]:
    counts = outcomes.summary_counts(
        assembly.docs,
        docs_found=assembly.docs_found,
        other_records=sum(o["records"] for o in assembly.others),
    )
    return {
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": finished_at,
        "status": status(assembly),
        **counts,
        "previous_run": previous_run,
        "other_streams": {o["stream"]: o["records"] for o in assembly.others},
        "failures": assembly.failures,
        "skipped": len(assembly.skips),
        "skips": assembly.skips,
        "warnings": assembly.warnings,
        "damaged_carried": outcomes.damaged_carried(assembly.docs),
    }


def write(
    tree: Tree,
    assembly: Assembly,
    *,
    started_at: str,
    finished_at: str,
) -> dict[str, t.Any]:
    """Write index.html and its views, summary.json, then manifest.json (which lists
    both in `files`), then make every file of the run read-only; return the summary."""
    for f in assembly.own_failures:  # the tap logs its own failures, skips and warnings
        logger.warning("%s %s: %s", f["object_type"], f["object_id"] or f["doc_id"], f["error"])
    previous_run = tree.prev.run_id if tree.prev else None
    counts = summary(
        assembly,
        run_id=tree.run_id,
        started_at=started_at,
        finished_at=finished_at,
        previous_run=previous_run,
    )
    viewer.write(tree, assembly, counts)  # index.html and its views, in the checksums
    tree.write_json(SUMMARY, counts)
    body = manifest(assembly, run_id=tree.run_id, created_at=finished_at, previous_run=previous_run)
    body["files"] = dict(sorted(tree.files.items()))
    out = fsutil.open_text(tree.root / MANIFEST, tree.perms)
    try:
        jsonio.write_pretty(body, out)
    finally:
        fsutil.finish(out, tree.perms)
    # one path at a time: a list of them would be one more thing per file held at the end
    fsutil.make_read_only((tree.root / rel for rel in [*tree.files, MANIFEST]), tree.perms)
    return counts
