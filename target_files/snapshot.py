"""The run folder's life: hidden while written, renamed into place, then `latest`.

```
output_dir/
  .partial-<run_id>/      this run while it is written (.lock, .staging/ inside)
  <run_id>/               the run once promoted (renamed as a whole: atomic)
  latest -> <run_id>      relative symlink (skipped where symlinks are impossible)
  latest.txt              "<run_id>\n", replaced atomically
```

A run is promoted only when its input ended cleanly; anything else leaves the earlier
runs and `latest` untouched (restic/borg's rule: an interrupted backup never damages the
snapshots before it). A partial folder whose process is gone (no lock held on its
`.lock`) is removed by the next run. What `latest` holds is read by `previous`.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import shutil
import time
import typing as t
from pathlib import Path

from target_files import fsutil, layout

logger = logging.getLogger(__name__)

PARTIAL_PREFIX = ".partial-"
LOCK_NAME = ".lock"
STAGING_NAME = ".staging"
LATEST = "latest"
LATEST_TXT = "latest.txt"
MANIFEST = "manifest.json"
SUMMARY = "summary.json"
#: Names in output_dir that a run may not take.
RESERVED_NAMES = frozenset({LATEST, LATEST_TXT, "state.json", "docs", "other"})
#: A partial folder without a lock file is someone's run just being created, unless old.
_UNLOCKED_GRACE_S = 60.0


class PromotionError(RuntimeError):
    """The run could not be put in place; earlier runs and `latest` are unchanged."""


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(ts: datetime.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def default_run_id(ts: datetime.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H%M%SZ")


def run_id_problem(run_id: str) -> str | None:
    """Why `run_id` cannot name a run folder, or None."""
    if not run_id or layout.safe(run_id) != run_id:
        return 'must be a plain file name (no path separators, no leading dot, no `<>:"/\\|?*`)'
    if run_id in RESERVED_NAMES:
        return f"{run_id!r} is a reserved name in the output folder"
    return None


# -- locking: a partial folder is alive while its process holds the lock -------------


def _try_lock(handle: t.BinaryIO) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            # Windows-only names, absent from the stubs mypy reads on POSIX.
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _is_dead(partial: Path) -> bool:
    lock = partial / LOCK_NAME
    try:
        handle = lock.open("rb+")
    except FileNotFoundError:
        return time.time() - partial.stat().st_mtime > _UNLOCKED_GRACE_S
    except OSError:
        return False
    with handle:
        return _try_lock(handle)  # closing the handle releases it again


def remove_stale_partials(output_dir: Path) -> list[str]:
    """Remove partial folders of runs that died (killed, crashed); return their names."""
    removed = []
    for entry in sorted(output_dir.iterdir()):
        if not entry.name.startswith(PARTIAL_PREFIX) or entry.is_symlink():
            continue
        if entry.is_dir() and _is_dead(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _writer_alive(name: str) -> bool:
    """Whether the process a `.latest….<pid>.tmp` name holds still runs."""
    pid = name.removesuffix(".tmp").rsplit(".", 1)[-1]
    if not pid.isdigit():
        return True  # not ours to judge: left to the age rule
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # alive, another user's
    return True


def remove_stale_latest_temps(output_dir: Path) -> list[str]:
    """Remove `latest`'s temporary files left by a run killed while it pointed `latest`
    (between writing them and `os.replace`): those whose writer is gone, and any old
    one; a young one of a live process is a concurrent run's."""
    removed = []
    for entry in output_dir.iterdir():
        if entry.name.startswith(f".{LATEST}.") and entry.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                old = time.time() - entry.lstat().st_mtime > _UNLOCKED_GRACE_S
                if old or not _writer_alive(entry.name):
                    entry.unlink()
                    removed.append(entry.name)
    return removed


# -- the run folder -----------------------------------------------------------------


class RunFolder:
    """One run: a hidden partial folder until `promote()`."""

    def __init__(
        self,
        output_dir: Path,
        run_id: str | None,
        started_at: datetime.datetime,
        perms: fsutil.Perms,
    ) -> None:
        self.output_dir = output_dir
        self.perms = perms
        self.started_at = started_at
        fsutil.mkdir(output_dir, perms)
        stale = remove_stale_latest_temps(output_dir)
        if stale:
            logger.info("Removed temporary files left by interrupted runs: %s", ", ".join(stale))
        removed = remove_stale_partials(output_dir)
        if removed:
            logger.info(
                "Removed %d partial folder(s) left by interrupted runs: %s",
                len(removed),
                ", ".join(removed),
            )
        wanted = run_id or default_run_id(started_at)
        self.run_id, self.partial = self._claim(wanted)
        if self.run_id != wanted:
            # Two runs in one second is normal (a retry, a test); nothing is wrong.
            logger.info("Run folder %s exists: this run is %s", wanted, self.run_id)
        self._lock = (self.partial / LOCK_NAME).open("wb")
        if not _try_lock(self._lock):
            raise PromotionError(f"cannot lock {self.partial}")
        self._lock.write(f"{os.getpid()}\n".encode())
        self._lock.flush()
        self.final = output_dir / self.run_id
        self.staging_dir = self.partial / STAGING_NAME
        self.promoted = False

    def _claim(self, wanted: str) -> tuple[str, Path]:
        n = 1
        while True:
            name = wanted if n == 1 else f"{wanted}-{n}"
            partial = self.output_dir / f"{PARTIAL_PREFIX}{name}"
            if not (self.output_dir / name).exists() and not partial.exists():
                try:
                    partial.mkdir(mode=self.perms.dir_mode)
                except FileExistsError:
                    pass  # a concurrent run took it: try the next name
                else:
                    return name, partial
            n += 1

    def promote(self) -> Path:
        """Rename the partial folder into place, then point `latest` at it."""
        shutil.rmtree(self.staging_dir, ignore_errors=True)
        if self.perms.fsync and not self.perms.fsync_each:  # every file of the run on disk
            try:
                fsutil.sync_filesystem(self.partial)
            except OSError as exc:
                msg = f"cannot flush {self.partial.name} to disk: {exc}"
                raise PromotionError(msg) from exc
        if self.final.exists() or self.final.is_symlink():
            raise PromotionError(f"{self.final} appeared during the run; not overwriting it")
        try:
            self.partial.rename(self.final)
        except OSError as exc:
            msg = f"cannot rename {self.partial.name} to {self.run_id}: {exc}"
            raise PromotionError(msg) from exc
        self.promoted = True
        self._release(self.final / LOCK_NAME)
        if self.perms.fsync:
            fsutil.fsync_path(self.output_dir)
        self._point_latest()
        return self.final

    def _point_latest(self) -> None:
        link = self.output_dir / LATEST
        if link.exists() and not link.is_symlink():
            logger.warning("%s is not a symlink: leaving it alone (latest.txt is updated)", link)
        else:
            tmp = self.output_dir / f".{LATEST}.{os.getpid()}.tmp"
            try:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                tmp.symlink_to(self.run_id, target_is_directory=True)
                tmp.replace(link)
            except (OSError, NotImplementedError) as exc:
                logger.info("No `latest` symlink (%s); latest.txt names the run", exc)
                with contextlib.suppress(OSError):
                    tmp.unlink()
        fsutil.replace_text(self.output_dir / LATEST_TXT, f"{self.run_id}\n", self.perms)

    def abandon(self) -> None:
        """Drop the partial folder: an unfinished run is never used."""
        if self.promoted:
            return
        self._release(self.partial / LOCK_NAME)
        shutil.rmtree(self.partial, ignore_errors=True)

    def _release(self, lock_path: Path) -> None:
        with contextlib.suppress(OSError):
            lock_path.unlink()
        with contextlib.suppress(OSError):
            self._lock.close()


# -- the previous run ---------------------------------------------------------------


def latest_run_dir(output_dir: Path) -> Path | None:
    """The run `latest.txt` (or else the `latest` symlink) names, if it is a run folder."""
    names = []
    with contextlib.suppress(OSError, UnicodeDecodeError):
        names.append((output_dir / LATEST_TXT).read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        names.append(str((output_dir / LATEST).readlink()))
    for name in names:
        if name and run_id_problem(name) is None and (output_dir / name / MANIFEST).is_file():
            return output_dir / name
    return None
