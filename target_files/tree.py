"""The run folder being built: the one place that puts files into it.

Staged files are moved in, metadata written, files of `latest` carried forward; `pages`
and `tables` decide what goes where, this module only does it.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_files import csvfile, fsutil, jsonio
from target_files.digest import Digest

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from target_files.outcomes import FailureIndex
    from target_files.previous import Checked, PreviousRun
    from target_files.staging import Staging, TableStage


@dataclass(frozen=True)
class Carry:
    """A file carried from latest: the run that wrote it, or None and why not; `damage`
    when latest's copy exists in the manifest but failed the carry check."""

    source: str | None
    why: str = ""
    damage: str | None = None
    prev_path: str | None = None


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
    rows_json: bool = False  # setting `rows_json`: `<table>.rows.jsonl` beside each CSV
    #: the streams the input announced (a SCHEMA message each)
    announced: frozenset[str] = frozenset()
    #: every file of the run so far: path relative to `root` → sha256, size, mtime_ns
    files: dict[str, dict[str, t.Any]] = field(default_factory=dict)

    def record(self, rel: str, digest: Digest | None) -> None:
        """Note a file that is now in place, with the digest taken as it was written."""
        st = (self.root / rel).lstat()
        if digest is None or digest.size != st.st_size:  # not written by us: read it once
            digest = Digest.of_file(self.root / rel)
        self.files[rel] = {
            "sha256": digest.hexdigest,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }

    def mkdir(self, rel: str) -> None:
        fsutil.mkdir(self.root / rel, self.perms)

    def place(self, staged: Path, rel: str) -> None:
        """Move a staged file into the tree."""
        dst = self.root / rel
        fsutil.mkdir(dst.parent, self.perms)
        staged.replace(dst)
        if self.perms.fsync_each:
            fsutil.fsync_path(dst)
        self.record(rel, self.staging.digest(staged))

    def write_json(self, rel: str, obj: object) -> None:
        self.write_text(rel, jsonio.pretty(obj))

    def write_text(self, rel: str, text: str) -> None:
        self.record(rel, fsutil.write_text(self.root / rel, text, self.perms))

    def write_csv(
        self, rel: str, columns: Sequence[Mapping[str, t.Any]], rows: Iterable[Sequence[str]]
    ) -> int:
        """A CSV with the header of `columns`; returns the number of rows."""
        path = self.root / rel
        fsutil.mkdir(path.parent, self.perms)
        digest = Digest()
        out = fsutil.open_text(path, self.perms, digest=digest)
        try:
            w = csvfile.writer(out)
            w.writerow(csvfile.header(columns))
            count = 0
            for cells in rows:
                w.writerow(cells)
                count += 1
        finally:
            fsutil.finish(out, self.perms)
        self.record(rel, digest)
        return count

    def carry(self, entry: Mapping[str, t.Any] | None, rel: str) -> Carry:
        """Link or copy the file of latest that a manifest entry names to `rel`, once it
        passed the carry check (`PreviousRun.check`)."""
        if self.prev is None:
            return Carry(None, "there is no earlier run (latest) to carry it from")
        if not entry or not entry.get("path"):
            return Carry(None, f"latest ({self.prev.run_id}) has no copy of it")
        old = str(entry["path"])
        checked = self.prev.check(old)
        if checked.path is None:
            damage = checked.damage or "missing"
            why = f"previous copy damaged: {damage} ({old} in latest {self.prev.run_id})"
            return Carry(None, why, damage, old)
        self._link(checked, rel)
        return Carry(str(entry.get("source") or self.prev.run_id), prev_path=old)

    def _link(self, checked: Checked, rel: str) -> None:
        assert checked.path is not None
        fsutil.link_or_copy(checked.path, self.root / rel, self.perms)
        if checked.record is None:  # an older manifest recorded no digest
            self.record(rel, None)
            return
        st = (self.root / rel).lstat()  # a copy has a new mtime; a link the same
        self.files[rel] = {**checked.record, "mtime_ns": st.st_mtime_ns}

    def carry_folder(self, old_rel: str, rel: str) -> tuple[int, list[tuple[str, str]]]:
        """Every file latest has under a folder, to folder `rel`: how many were carried,
        and (path in latest, damage) of those that failed the carry check."""
        if self.prev is None:
            return 0, []
        count, damaged = 0, []
        for old, sub in self.prev.folder_files(old_rel):
            checked = self.prev.check(old)
            if checked.path is None:
                damaged.append((old, checked.damage or "missing"))
                continue
            self._link(checked, f"{rel}/{sub}")
            count += 1
        return count, damaged

    def staged_rows(self, stage: TableStage, column_ids: Sequence[str]) -> t.Iterator[list[str]]:
        """The rows that arrived this run, laid out for `column_ids`."""
        if not stage.csv_started:
            return
        with stage.csv_path.open(encoding=fsutil.ENCODING, newline="") as fin:
            rows = csvfile.reader(fin)
            next(rows, None)
            for cells in rows:
                yield csvfile.remap(cells, stage.column_ids or [], column_ids)
