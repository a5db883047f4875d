"""The run's `index.html` and its views: a backup you can open from disk, offline.

target-files writes them at the end of every run, before `manifest.json`, so they are in
its checksums: `build` (what is written where), `docview` (a doc's index and its pages),
`content` (a page's export made safe to show), `tableview` (a table's first rows),
`runview` (index.html), `jsonview` (formulas, controls, sharing), `markup` (the shell and
its Content-Security-Policy), `static/` (the one stylesheet and script).
"""

from __future__ import annotations

import csv
import logging
import tempfile
import typing as t
from pathlib import Path

from target_files import rundiff
from target_files.viewer.build import RunData, build

if t.TYPE_CHECKING:
    from target_files.assemble import Assembly
    from target_files.tree import Tree

logger = logging.getLogger(__name__)


def changes(tree: Tree, assembly: Assembly) -> tuple[dict[str, t.Any] | None, str]:
    """What changed since latest (None and why not when it cannot be said)."""
    prev = tree.prev
    if prev is None:
        return None, "This is the first run: nothing to compare with."
    old_digests = {k: str(v.get("sha256")) for k, v in (prev.files or {}).items()}
    new_digests = {k: str(v.get("sha256")) for k, v in tree.files.items()}
    old = rundiff.Side.of(prev.run_id, prev.root, prev.docs.values(), old_digests)
    new = rundiff.Side.of(tree.run_id, tree.root, [d.entry for d in assembly.docs], new_digests)
    with tempfile.TemporaryDirectory(prefix="target-files-diff-") as tmp:
        db = rundiff.scratch_db(Path(tmp))
        try:
            return rundiff.diff_runs(old, new, db), ""
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            logger.warning("index.html: cannot compare with %s: %s", prev.run_id, exc)
            return None, f"Could not compare with {prev.run_id}: {exc}"
        finally:
            db.close()


def write(tree: Tree, assembly: Assembly, summary: t.Mapping[str, t.Any]) -> None:
    """Write index.html and the views into the run being built. The index is a way into
    the backup, not part of it: whatever stops it is one warning, never a lost run."""
    try:
        _write(tree, assembly, summary)
    except Exception as exc:  # any bug or odd input: see the docstring
        logger.warning("index.html not written (the backup is): %s: %s", type(exc).__name__, exc)


def _write(tree: Tree, assembly: Assembly, summary: t.Mapping[str, t.Any]) -> None:
    diff, note = changes(tree, assembly)
    if tree.prev is not None:  # compared: the views and the manifest come from this run
        tree.prev.release()
    run = RunData(
        root=tree.root,
        run_id=tree.run_id,
        files=tree.files,
        docs=[d.entry for d in assembly.docs],
        summary=summary,
        changes=diff,
        changes_note=note,
    )
    build(run, tree.write_text)
