"""`benchmarks/suite_cpu.py`: its hook sees a real child process, and its report's sums."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks import suite_cpu


def test_the_hook_logs_each_python_process_with_its_test(tmp_path: Path) -> None:
    log_dir, hook_dir = tmp_path / "log", tmp_path / "hook"
    log_dir.mkdir()
    hook_dir.mkdir()
    env = suite_cpu.hooked_env(log_dir, hook_dir)
    env["PYTEST_CURRENT_TEST"] = "tests/e2e/test_x.py::test_y (call)"
    script = tmp_path / "tap-coda"
    script.write_text("sum(range(10**6))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, check=True)
    assert done.stdout == b""
    assert done.stderr == b""
    ((program, cpu, test),) = suite_cpu.read_log(log_dir)
    assert program == "tap-coda"
    assert cpu > 0
    assert test == "tests/e2e/test_x.py::test_y"


def test_the_report_sums_per_program_and_puts_the_start_up_floor_beside_the_budget() -> None:
    rows = [
        ("tap-coda", 1.5, "tests/e2e/test_a.py::t1"),
        ("tap-coda", 1.25, "tests/e2e/test_b.py::t2"),
        ("target-files", 1.0, "tests/e2e/test_a.py::t1"),
        ("python -c", 4.0, ""),
    ]
    imports = {"tap-coda": 5.0, "target-files": 2.5, "coda-backup": 1.25}
    text = suite_cpu.report(rows, code=0, wall=10.0, total_cpu=10.0, imports=imports)
    tap = 1.5 + 1.25
    assert f"| tap-coda | 2 | {tap:.1f} | {tap / 2:.2f} | {imports['tap-coda']:.2f} |" in text
    assert f"| target-files | 1 | 1.0 | 1.00 | {imports['target-files']:.2f} |" in text
    seen = sum(cpu for _, cpu, _ in rows)
    assert f"| {10.0 - seen:.1f} |" in text
    floor = 2 * imports["tap-coda"] + 1 * imports["target-files"]
    assert f"**{floor:.0f} CPU-s**" in text
    assert f"budget of {suite_cpu.BUDGET_CPU_S:.0f} CPU-s" in text
    assert f"| tests/e2e/test_a.py | {1.5 + 1.0:.1f} |" in text
    assert "python -c" not in text.split("by test file")[1]
