"""The run folder being built: the one place that puts files into it.

Staged files are moved in, metadata written, files of `latest` carried forward; `pages`
and `tables` decide what goes where, this module only does it.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from target_files import csvfile, fsutil, jsonio

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from target_files.outcomes import FailureIndex
    from target_files.previous import PreviousRun
    from target_files.staging import Staging, TableStage


@dataclass(frozen=True)
class Carry:
    """A file carried from latest: the run that wrote it, or None and why not."""

    source: str | None
    why: str = ""


@dataclass
class Tree:
    """The partial run folder `root` and what building it reads: staging, latest, the
    tap's failures, and which streams the tap announced (a deselected stream is not
    expected)."""

    root: Path
    run_id: str
    perms: fsutil.Perms
    staging: Staging
    prev: PreviousRun | None
    failed: FailureIndex
    expect_pages: bool = True
    expect_rows: bool = True

    def mkdir(self, rel: str) -> None:
        fsutil.mkdir(self.root / rel, self.perms)

    def place(self, staged: Path, rel: str) -> None:
        """Move a staged file into the tree."""
        dst = self.root / rel
        fsutil.mkdir(dst.parent, self.perms)
        staged.replace(dst)
        if self.perms.fsync:
            fsutil.fsync_path(dst)

    def write_json(self, rel: str, obj: object) -> None:
        fsutil.write_text(self.root / rel, jsonio.pretty(obj), self.perms)

    def write_csv(
        self, rel: str, columns: Sequence[Mapping[str, t.Any]], rows: Iterable[Sequence[str]]
    ) -> int:
        """A CSV with the header of `columns`; returns the number of rows."""
        path = self.root / rel
        fsutil.mkdir(path.parent, self.perms)
        out = fsutil.open_text(path, self.perms)
        try:
            w = csvfile.writer(out)
            w.writerow(csvfile.header(columns))
            count = 0
            for cells in rows:
                w.writerow(cells)
                count += 1
        finally:
            fsutil.finish(out, self.perms)
        return count

    def carry(self, entry: Mapping[str, t.Any] | None, rel: str) -> Carry:
        """Link or copy the file of latest that a manifest entry names to `rel`."""
        if self.prev is None:
            return Carry(None, "there is no earlier run (latest) to carry it from")
        if not entry or not entry.get("path"):
            return Carry(None, f"latest ({self.prev.run_id}) has no copy of it")
        src = self.prev.file(entry["path"])
        if src is None:
            why = f"its file {entry['path']} is missing in latest ({self.prev.run_id})"
            return Carry(None, why)
        fsutil.link_or_copy(src, self.root / rel, self.perms)
        return Carry(str(entry.get("source") or self.prev.run_id))

    def carry_folder(self, old_rel: str, rel: str) -> int:
        """Every file under a folder of latest, to folder `rel`; returns how many."""
        if self.prev is None:
            return 0
        files = list(self.prev.walk(old_rel))
        for src, sub in files:
            fsutil.link_or_copy(src, self.root / rel / sub, self.perms)
        return len(files)

    def staged_rows(self, stage: TableStage, column_ids: Sequence[str]) -> t.Iterator[list[str]]:
        """The rows that arrived this run, laid out for `column_ids`."""
        if not stage.csv_started:
            return
        with stage.csv_path.open(encoding=fsutil.ENCODING, newline="") as fin:
            rows = csvfile.reader(fin)
            next(rows, None)
            for cells in rows:
                yield csvfile.remap(cells, stage.column_ids or [], column_ids)
