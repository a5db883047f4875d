"""Running the real `meltano` (installed by `make meltano`, or `MELTANO_BIN`) in a project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.backup_cli import REPO_ROOT

#: meltano.yml's `fake` environment: quick export polls, no client-side pacing.
ENVIRONMENT = "fake"
STATE_ID = f"{ENVIRONMENT}:tap-coda-to-target-files"


def meltano_bin() -> Path:
    configured = os.environ.get("MELTANO_BIN")
    path = Path(configured) if configured else REPO_ROOT / ".venv-meltano" / "bin" / "meltano"
    if not path.is_file():
        pytest.skip(f"Meltano is not installed at {path}: run `make meltano` or set MELTANO_BIN")
    return path


def meltano(
    project: Path, *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(meltano_bin()), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"meltano {' '.join(args)}:\n{proc.stderr[-4000:]}"
    return proc
