"""Running the real `coda-backup` against the fake Coda API on 127.0.0.1, and its result."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fakecoda import FakeCoda
from tests.helpers import FAST_TAP, script

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Distinctive, so a leak into any file or log is easy to find.
TOKEN = "tok-E2E-sEcReT-7c41f0d9"
#: Fast exports and retries, no client-side pacing (the fake has no rate limits on).
FAST_TAP_SETTINGS = FAST_TAP


def console_script(name: str) -> str:
    """`tests.helpers.script`, skipping the test when the script is not installed."""
    found = script(name)
    if not Path(found).is_file():
        pytest.skip(f"{name} is not installed (pip install -e .)")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that could carry a real token or tap settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CODA_", "TAP_CODA_", "TARGET_FILES_", "MELTANO_"))
        and k not in ("LOGLEVEL",)
    }
    env["CODA_BACKUP_TAP_SETTINGS"] = json.dumps(FAST_TAP_SETTINGS)
    env.update(extra)
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    output: Path
    #: what latest.txt named when the command ended (read once: a later run moves it)
    latest: str | None = field(init=False)

    def __post_init__(self) -> None:
        path = self.output / "latest.txt"
        self.latest = path.read_text(encoding="utf-8").strip() if path.is_file() else None

    @property
    def run_dir(self) -> Path:
        assert self.latest, f"no promoted run; stderr:\n{self.stderr}"
        return self.output / self.latest

    def summary(self) -> dict[str, t.Any]:
        return json.loads((self.run_dir / "summary.json").read_text(encoding="utf-8"))

    def manifest(self) -> dict[str, t.Any]:
        return json.loads((self.run_dir / "manifest.json").read_text(encoding="utf-8"))

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "error" in line.lower()]


def run_coda_backup(
    *args: str,
    output: Path,
    fake: FakeCoda | None = None,
    token: str | None = TOKEN,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Result:
    environment = clean_env(**(env or {}))
    if token is not None:
        environment["CODA_API_TOKEN"] = token
    command = [console_script("coda-backup"), "--output", str(output)]
    if fake is not None:
        command += ["--api-url", fake.url]
    proc = subprocess.run(
        [*command, *args],
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr, output)


def message_lines(stderr: str) -> list[str]:
    """coda-backup's non-empty stderr lines but its progress lines (printed every few
    seconds without a terminal, so a run slowed by a busy machine prints some too)."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("coda-backup: progress:")
    ]
