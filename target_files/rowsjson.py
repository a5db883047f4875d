"""`<table>.rows.jsonl` (setting `rows_json`): the table's rows as Coda served them, one
row object per line (values by column id), beside its CSV.

It follows the CSV's outcome exactly: a CSV written this run from every row gets the rows
that arrived; a CSV merged from latest's and a delta gets latest's rows file with the
delta's rows replacing theirs by `id` in place, new ones appended in arrival order; a CSV
carried (or kept) from latest gets latest's rows file carried with it. Where latest has
no rows file to carry or merge (it was made without `rows_json`), there is none, and the
restore reads the CSV instead.
"""

from __future__ import annotations

import logging
import typing as t

from target_files import fsutil, jsonio
from target_files.digest import Digest
from target_files.outcomes import CsvOutcome, CsvPlan

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from target_files.tables import TableJob
    from target_files.tree import Tree

logger = logging.getLogger(__name__)

EXT = ".rows.jsonl"


def place(tree: Tree, job: TableJob, plan: CsvPlan, csv: CsvOutcome) -> dict[str, t.Any] | None:
    """Put the rows file in place as the CSV was; its `files` entry, or None."""
    if not tree.rows_json or csv.source is None:
        return None
    rel = job.node.base + EXT
    prev_entry = (job.prev.get("files") or {}).get("rows_json")
    if csv.source != tree.run_id:
        carry = tree.carry(prev_entry, rel)
        return {"path": rel, "source": carry.source} if carry.source else None
    staged = job.stage.json_path
    if plan is CsvPlan.MERGE:
        checked = tree.prev.check(prev_entry.get("path")) if tree.prev and prev_entry else None
        if checked is None or checked.path is None:
            logger.warning("No rows file of %s in latest to merge the delta into", job.rel)
            return None
        _write(tree, rel, _merged(checked.path, staged))
    elif staged is not None and staged.exists():
        tree.place(staged, rel)
    else:  # an empty table
        _write(tree, rel, iter(()))
    return {"path": rel, "source": tree.run_id}


def _lines(path: Path | None) -> Iterator[str]:
    if path is None or not path.exists():
        return
    with path.open(encoding=fsutil.ENCODING) as fin:
        for line in fin:
            if line.strip():
                yield line.rstrip("\n")


def _merged(old: Path, delta_path: Path | None) -> Iterator[str]:
    """latest's rows with the delta's in place by id, then the delta's new rows."""
    delta: dict[str, str] = {}
    for line in _lines(delta_path):
        delta[str(jsonio.loads(line).get("id"))] = line
    for line in _lines(old):
        row_id = str(jsonio.loads(line).get("id"))
        yield delta.pop(row_id, line)
    yield from delta.values()


def _write(tree: Tree, rel: str, lines: Iterator[str]) -> None:
    path = tree.root / rel
    fsutil.mkdir(path.parent, tree.perms)
    digest = Digest()
    out = fsutil.open_text(path, tree.perms, digest=digest)
    try:
        for line in lines:
            out.write(line + "\n")
    finally:
        fsutil.finish(out, tree.perms)
    tree.record(rel, digest)
