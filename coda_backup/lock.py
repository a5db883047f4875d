"""One writer at a time: `<output>/.coda-backup.lock`, held by a backup and by prune.

The lock is an OS lock on the file (flock; msvcrt on Windows), so it goes away with the
process that held it, however that process ended: a lock left by a process that died is
simply taken. The holder writes its pid, host, start time and command into the file, so
a second writer that gave up waiting can say who is running. Verify and diff only read
and take no lock.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import socket
import sys
import time
import typing as t
from pathlib import Path

LOCK_FILE = ".coda-backup.lock"
DEFAULT_WAIT_S = 60.0
POLL_S = 0.2

logger = logging.getLogger("coda-backup")


class LockBusy(Exception):  # noqa: N818 - "busy" reads better at the call site
    """Another process held the output folder for longer than we were willing to wait."""


def try_lock(handle: t.BinaryIO) -> bool:
    """Take the OS lock on an open file without waiting; False when someone holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: t.BinaryIO) -> None:
    with contextlib.suppress(OSError):
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def holder_text(path: Path) -> str:
    """Who holds the lock, from what the holder wrote into it."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        info = None
    if not isinstance(info, dict):
        return "another coda-backup"
    return (
        f"coda-backup {info.get('command', '?')} (pid {info.get('pid', '?')} on "
        f"{info.get('host', '?')}, started {info.get('started_at', '?')})"
    )


@contextlib.contextmanager
def output_lock(output: Path, *, command: str, wait: float = DEFAULT_WAIT_S) -> t.Iterator[Path]:
    """Hold `output`'s writer lock for the `with` block, waiting up to `wait` seconds."""
    path = output / LOCK_FILE
    try:
        output.mkdir(mode=0o700, parents=True, exist_ok=True)
        # owner-only like the backups; never truncated before it is ours
        handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
    except OSError as exc:
        msg = f"cannot write to the output folder {output}: {exc.strerror or exc}"
        raise LockBusy(msg) from None
    with handle:
        deadline = time.monotonic() + wait
        announced = False
        while not try_lock(handle):
            if time.monotonic() >= deadline:
                msg = (
                    f"{output} is in use by {holder_text(path)}; gave up after waiting "
                    f"{wait:g} s (--lock-wait)"
                )
                raise LockBusy(msg)
            if not announced:
                logger.warning("waiting for %s to finish with %s", holder_text(path), output)
                announced = True
            time.sleep(POLL_S)
        _write_holder(handle, command)
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
            _unlock(handle)


def _write_holder(handle: t.BinaryIO, command: str) -> None:
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": started}
    info["command"] = command
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(info).encode("utf-8"))
    handle.flush()
