"""Running the real `coda-backup restore …` against the fake, and reading what it did."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

from fakecoda import FakeCoda
from tests.e2e.backup_cli import TOKEN, clean_env, console_script


def restore_command(fake: FakeCoda, what: str, *args: str) -> list[str]:
    return [console_script("coda-backup"), "restore", what, "--api-url", fake.url, *args]


def run_restore(
    fake: FakeCoda, what: str, *args: str, token: str = TOKEN, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        restore_command(fake, what, *args),
        env=clean_env(CODA_API_TOKEN=token),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, t.Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    data: dict[str, t.Any] = json.loads(proc.stdout)
    return data


def writes(fake: FakeCoda) -> int:
    return fake.count(rate_class="write")


def saved_rows(run: Path, table_entry: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    path = run / table_entry["files"]["rows_json"]["path"]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def table_entry(manifest: dict[str, t.Any], table_id: str) -> dict[str, t.Any]:
    return next(x for d in manifest["docs"] for x in d["tables"] if x["id"] == table_id)
