"""The previous run (`latest`): what it holds, and what a new run takes from it.

Every run is complete on its own, but an incremental run only receives what changed; the
rest comes from here (restic's "parent snapshot"): files carried forward by id (a hard
link where possible), and a table's CSV merged with the rows that changed (delta).
"""

from __future__ import annotations

import logging
import stat
import typing as t
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from target_files import csvfile, jsonio, layout
from target_files.digest import Digest
from target_files.snapshot import MANIFEST, latest_run_dir

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """A file of latest, checked before it is carried: its path, what the manifest
    recorded for it (None: an older manifest without `files`) or why it is damaged."""

    path: Path | None
    record: dict[str, t.Any] | None = None
    damage: str | None = None


@dataclass
class PreviousRun:
    """`latest`'s manifest, indexed by object id and by file."""

    run_id: str
    root: Path
    docs: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    pages: dict[tuple[str, str], dict[str, t.Any]] = field(default_factory=dict)
    tables: dict[tuple[str, str], dict[str, t.Any]] = field(default_factory=dict)
    #: the manifest's `files` (None: written before runs had checksums)
    files: dict[str, dict[str, t.Any]] | None = None
    verify: bool = False  # compare the full sha256 too, not only size and mtime
    _dirs: set[Path] = field(default_factory=set)

    @classmethod
    def load(cls, output_dir: Path, *, verify: bool = False) -> PreviousRun | None:
        root = latest_run_dir(output_dir)
        if root is None:
            return None
        try:
            manifest = jsonio.loads((root / MANIFEST).read_bytes())
        except (OSError, ValueError) as exc:
            logger.warning("Cannot read %s (%s): nothing is carried forward", root / MANIFEST, exc)
            return None
        prev = cls(run_id=str(manifest.get("run_id") or root.name), root=root.resolve())
        prev.verify = verify
        files = manifest.get("files")
        prev.files = files if isinstance(files, dict) else None
        for doc in manifest.get("docs") or []:
            doc_id = str(doc.get("id"))
            prev.docs[doc_id] = doc
            for page in doc.get("pages") or []:
                prev.pages[(doc_id, str(page.get("id")))] = page
            for table in doc.get("tables") or []:
                prev.tables[(doc_id, str(table.get("id")))] = table
        return prev

    def release(self) -> None:
        """Let go of latest's index once the run no longer reads it (tens of MB for a
        large account, issue #17). A file checked after this is never carried: it is
        not listed any more."""
        self.docs, self.pages, self.tables, self.files = {}, {}, {}, {}
        self._dirs = set()

    def _path(self, rel: str | None) -> Path | None:
        if not rel:
            return None
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or any(p in ("", ".", "..") for p in parts):
            return None
        return layout.child(self.root, *parts)

    def file(self, rel: str | None) -> Path | None:
        """The file a manifest path names, if it is inside the run and exists."""
        return self.check(rel).path

    def check(self, rel: str | None) -> Checked:
        """Whether latest's file `rel` may be carried: a regular file reached through no
        symlink (one planted in latest is never carried or followed), with the size and
        modification time (and, with `verify`, the sha256) the manifest recorded."""
        path = self._path(rel)
        if path is None or rel is None:
            return Checked(None, damage="missing")
        try:
            self._no_symlinked_folder(path.parent)
            st = path.lstat()
        except FileNotFoundError:
            return Checked(None, damage="missing")
        except OSError as exc:
            return Checked(None, damage=str(exc.strerror or exc))
        if not stat.S_ISREG(st.st_mode):
            kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            return Checked(None, damage=f"{kind} instead of a file")
        if self.files is None:
            return Checked(path)
        record = self.files.get(rel)
        damage = file_damage(record, st.st_size, st.st_mtime_ns)
        full = damage is None and self.verify and record is not None
        if full and Digest.of_file(path).hexdigest != (record or {}).get("sha256"):
            damage = "content differs (sha256)"
        return Checked(path if damage is None else None, record, damage)

    def _no_symlinked_folder(self, folder: Path) -> None:
        if folder in self._dirs or folder == self.root:
            return
        if folder.is_symlink() or not folder.is_dir():
            raise FileNotFoundError(folder)
        self._no_symlinked_folder(folder.parent)
        self._dirs.add(folder)

    def folder_files(self, rel: str | None) -> Iterator[tuple[str, str]]:
        """(path in latest, path below the folder) of every file latest has in folder
        `rel`: as its manifest lists them, or (older manifests) as found on disk."""
        base = self._path(rel)
        if base is None or rel is None:
            return
        prefix = rel.rstrip("/") + "/"
        if self.files is not None:
            for name in sorted(self.files):
                if name.startswith(prefix):
                    yield name, name[len(prefix) :]
            return
        if base.is_dir() and not base.is_symlink():
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    sub = path.relative_to(base).as_posix()
                    yield prefix + sub, sub


def file_damage(record: t.Mapping[str, t.Any] | None, size: int, mtime_ns: int) -> str | None:
    """What the cheap check (always made) finds wrong with a file of latest."""
    if record is None:
        return "not listed in its manifest"
    if size != record.get("size"):
        return "size differs"
    if mtime_ns != record.get("mtime_ns"):
        return "modification time differs"
    return None


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
