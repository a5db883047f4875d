"""Creating files and folders with the run's permissions; linking or copying old files.

Every file of a run is opened here, so `private` (folders 0700, files 0600) holds for all
of them without touching the process umask.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import shutil
import stat
import typing as t
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from target_files.digest import Digest, HashingFileIO

#: Text files are UTF-8; a lone surrogate (possible in JSON input) is written escaped
#: (`\ud800`) instead of failing the whole run.
ENCODING = "utf-8"
ERRORS = "backslashreplace"
#: Write buffer of hashed files (the digest is fed per buffer, not per line).
WRITE_BUFFER = 1 << 16
#: Staging files open at once (rows of one table normally arrive together).
MAX_OPEN_FILES = 32


def _syncfs() -> t.Callable[[int], int] | None:
    """Linux's syncfs(2), or None where the C library has none."""
    try:
        func = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    func.argtypes, func.restype = [ctypes.c_int], ctypes.c_int
    return t.cast("t.Callable[[int], int]", func)


#: One flush of the run's file system before promotion, where there is one: an fsync per
#: file cost half of target-files' wall at 10,000 pages (a journal commit each).
SYNCFS = _syncfs()


@dataclass(frozen=True)
class Perms:
    """Modes for new folders and files (still subject to the umask when not private)."""

    private: bool = True
    fsync: bool = True
    hardlinks: bool = True

    @property
    def fsync_each(self) -> bool:
        """Flush file by file: only where the file system cannot be flushed whole before
        the run is promoted (`sync_filesystem`)."""
        return self.fsync and SYNCFS is None

    @property
    def dir_mode(self) -> int:
        return 0o700 if self.private else 0o777

    @property
    def file_mode(self) -> int:
        return 0o600 if self.private else 0o666

    @property
    def finished_mode(self) -> int:
        """Files of a finished run: read-only, so an editor saving in place is refused
        instead of rewriting every run that shares the file (hard links)."""
        return 0o400 if self.private else 0o444


def mkdir(path: Path, perms: Perms) -> Path:
    """Create `path` and missing parents with the run's folder mode."""
    if not path.is_dir():
        mkdir(path.parent, perms)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=perms.dir_mode)
    return path


def open_text(
    path: Path, perms: Perms, *, append: bool = False, digest: Digest | None = None
) -> t.TextIO:
    """A new (or, with `append`, existing) UTF-8 text file, newline='' (CSV-ready); every
    byte written also goes to `digest` when one is given."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), perms.file_mode)
    if digest is None:
        return open(fd, "w", encoding=ENCODING, errors=ERRORS, newline="")  # noqa: PTH123
    raw = io.BufferedWriter(HashingFileIO(fd, digest), WRITE_BUFFER)
    return io.TextIOWrapper(raw, encoding=ENCODING, errors=ERRORS, newline="")


def finish(handle: t.TextIO, perms: Perms) -> None:
    """Flush and close, with fsync when configured (a promoted run must be on disk)."""
    handle.flush()
    if perms.fsync_each:
        os.fsync(handle.fileno())
    handle.close()


def write_text(path: Path, text: str | bytes, perms: Perms) -> Digest:
    """Write a whole text file (bytes as they are); return the digest of its bytes."""
    mkdir(path.parent, perms)
    data = text if isinstance(text, bytes) else text.encode(ENCODING, ERRORS)
    fd = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), perms.file_mode
    )
    with open(fd, "wb") as out:  # noqa: PTH123
        out.write(data)
        out.flush()
        if perms.fsync_each:
            os.fsync(out.fileno())
    return Digest.of_bytes(data)


def replace_text(path: Path, text: str, perms: Perms) -> None:
    """Atomically replace `path` (write a temporary file beside it, then os.replace)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_text(tmp, text, perms)
        if perms.fsync and not perms.fsync_each:  # outside a run's flush (latest.txt)
            fsync_path(tmp)
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def link_or_copy(src: Path, dst: Path, perms: Perms) -> str:
    """Put `src` at `dst`: a hard link when allowed and possible, else a copy.

    Returns "link" or "copy". A private run does not link a file that others may read:
    fixing its mode would change the earlier run's file too (one inode).
    """
    mkdir(dst.parent, perms)
    mode = src.stat().st_mode
    if perms.hardlinks and not (perms.private and mode & (stat.S_IRWXG | stat.S_IRWXO)):
        try:
            os.link(src, dst)
        except OSError:
            pass  # another file system, FAT, no permission: copy instead
        else:
            return "link"
    with src.open("rb") as fin:
        fd = os.open(
            dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), perms.file_mode
        )
        with open(fd, "wb") as fout:  # noqa: PTH123
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            if perms.fsync_each:
                os.fsync(fout.fileno())
    return "copy"


def make_read_only(paths: t.Iterable[Path], perms: Perms) -> None:
    """Files of a finished run become read-only; folders stay writable by their owner, so
    pruning a run can still remove it."""
    for path in paths:
        path.chmod(perms.finished_mode)


def sync_filesystem(path: Path) -> None:
    """Everything written so far on `path`'s file system is on disk (syncfs: data and
    folders alike); raises OSError as an fsync would."""
    assert SYNCFS is not None
    fd = os.open(path, os.O_RDONLY)
    try:
        if SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder so a rename in it is durable (POSIX; a no-op where the
    path cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class OpenFiles:
    """A few append handles kept open; the least recently used is closed first."""

    def __init__(self, perms: Perms, wrap: t.Callable[[t.TextIO], t.Any]) -> None:
        self._perms = perms
        self._wrap = wrap  # what each handle comes with (a csv writer)
        self._open: OrderedDict[Path, tuple[t.TextIO, t.Any]] = OrderedDict()
        #: every file's digest so far: a file reopened for appending goes on hashing
        self.digests: dict[Path, Digest] = {}

    def get(self, path: Path) -> tuple[t.TextIO, t.Any]:
        entry = self._open.get(path)
        if entry is None:
            if len(self._open) >= MAX_OPEN_FILES:
                _, (old, _w) = self._open.popitem(last=False)
                old.close()
            digest = self.digests.setdefault(path, Digest())
            handle = open_text(path, self._perms, append=True, digest=digest)
            entry = (handle, self._wrap(handle))
            self._open[path] = entry
        else:
            self._open.move_to_end(path)
        return entry

    def close(self, path: Path) -> None:
        entry = self._open.pop(path, None)
        if entry:
            entry[0].close()

    def close_all(self) -> None:
        while self._open:
            _, (handle, _w) = self._open.popitem()
            handle.close()
