"""The tap's folder for work files (large exports on their way, tap_coda.spooled).

One per run, under the system's temporary folder, named with the tap's pid: the run
removes it when it ends (`Services.close`), and a run that was killed (SIGKILL leaves no
chance to clean up) has its folder removed by the next tap that makes one, once that pid
is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "tap-coda-work-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def sweep(parent: Path) -> None:
    """Remove the work folders in `parent` whose tap is no longer running."""
    for old in parent.glob(f"{PREFIX}*"):
        pid = old.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def make(parent: Path | None = None) -> Path:
    """A new work folder (private: mkdtemp's 0700), after sweeping those of dead taps."""
    parent = Path(parent or tempfile.gettempdir())
    sweep(parent)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
