"""The previous run (`latest`): what it holds, and what a new run takes from it.

Every run is complete on its own, but an incremental run only receives what changed; the
rest comes from here (restic's "parent snapshot"): files carried forward by id (a hard
link where possible), and a table's CSV merged with the rows that changed (delta).
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from target_files import csvfile, jsonio, layout
from target_files.snapshot import MANIFEST, latest_run_dir

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

logger = logging.getLogger(__name__)


@dataclass
class PreviousRun:
    """`latest`'s manifest, indexed by object id."""

    run_id: str
    root: Path
    docs: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    pages: dict[tuple[str, str], dict[str, t.Any]] = field(default_factory=dict)
    tables: dict[tuple[str, str], dict[str, t.Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, output_dir: Path) -> PreviousRun | None:
        root = latest_run_dir(output_dir)
        if root is None:
            return None
        try:
            manifest = jsonio.loads((root / MANIFEST).read_bytes())
        except (OSError, ValueError) as exc:
            logger.warning("Cannot read %s (%s): nothing is carried forward", root / MANIFEST, exc)
            return None
        prev = cls(run_id=str(manifest.get("run_id") or root.name), root=root.resolve())
        for doc in manifest.get("docs") or []:
            doc_id = str(doc.get("id"))
            prev.docs[doc_id] = doc
            for page in doc.get("pages") or []:
                prev.pages[(doc_id, str(page.get("id")))] = page
            for table in doc.get("tables") or []:
                prev.tables[(doc_id, str(table.get("id")))] = table
        return prev

    def file(self, rel: str | None) -> Path | None:
        """The file a manifest path names, if it is inside the run and exists."""
        if not rel:
            return None
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or any(p in ("", ".", "..") for p in parts):
            return None
        path = layout.child(self.root, *parts)
        return path if path.is_file() else None

    def walk(self, rel: str | None) -> Iterator[tuple[Path, str]]:
        """Files under a folder of the previous run, with their path relative to it."""
        parts = PurePosixPath(rel or "").parts
        if not parts or PurePosixPath(rel or "").is_absolute() or ".." in parts:
            return
        base = layout.child(self.root, *parts)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(base).as_posix()


class MismatchError(ValueError):
    """latest's CSV is not laid out as its manifest says."""


def merged_rows(
    old_rows: Iterator[list[str]],
    old_ids: Sequence[str],
    new_ids: Sequence[str],
    delta: Iterable[list[str]],
) -> Iterator[Sequence[str]]:
    """latest's CSV rows (header first) with the delta's rows: replaced in place by
    `_row_id`, new ones appended in arrival order, every row laid out for `new_ids`.
    Holds the delta's rows (not the table's) in memory. The header is checked here, before
    anything is written."""
    if len(next(old_rows, [])) != len(csvfile.ROW_FIELDS) + len(old_ids):
        raise MismatchError
    changed = {cells[0]: cells for cells in delta}

    def rows() -> Iterator[Sequence[str]]:
        for cells in old_rows:
            new = changed.pop(cells[0], None) if cells else None
            yield new if new is not None else csvfile.remap(cells, old_ids, new_ids)
        yield from changed.values()

    return rows()
