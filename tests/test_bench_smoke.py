"""Smoke test of `make bench`: the quick benchmark completes, measures and loses nothing.

No timing assertions: the numbers depend on the machine; benchmarks/RESULTS.md is where
they are read. This only proves the benchmark still works against today's code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KINDS = (
    "whoami",
    "list_docs",
    "list_pages",
    "list_tables",
    "get_table",
    "list_columns",
    "list_rows",
    "export_post",
    "export_poll",
    "blob",
)


@pytest.mark.slow
def test_quick_full_backup_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--scenario=full", f"--json={out}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    full = json.loads(out.read_text(encoding="utf-8"))["scenarios"]["full"]

    # it produced numbers
    for key in ("wall", "bound", "ratio", "cpu_tree"):
        assert full[key] > 0, key
    assert full["rss_mb"]["tap"] > 0
    assert full["rss_mb"]["target"] > 0
    assert "| **wall / bound** |" in done.stdout

    # it lost nothing: every row (by id) and every canvas page of the fake is in the backup
    check = full["check"]
    assert check["ok"], check
    assert check["rows_written"] == check["rows_expected"] > 0
    assert check["rows_missing"] == check["rows_unexpected"] == 0
    assert check["pages_written"] == check["pages_expected"] > 0

    # it saw the expected request classes and kinds
    seen = full["seen"]
    assert {"read", "write", "list_docs", "blob"} <= set(seen["classes_ok"])
    for kind in KINDS:
        assert seen["kinds"].get(kind, {}).get("count", 0) >= 1, kind
