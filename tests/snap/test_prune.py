"""`coda-backup prune` through the real console script: what it removes, the space it
reports against what the disk gives back, `latest`, leftovers and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.snap.runfolders import coda_backup, make_run

BIG = b"x" * 5000
FILES = {"docs/D__d1/doc.json": b'{"id": "d1"}', "docs/D__d1/tables/table/T__t.csv": BIG}
NAMES = ["2026-01-01T010000Z", "2026-01-02T010000Z", "2026-01-03T010000Z", "2026-01-03T020000Z"]


def distinct_bytes(output: Path) -> int:
    """What the output folder's files occupy, each inode once."""
    seen: dict[tuple[int, int], int] = {}
    for path in output.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            seen[(st.st_dev, st.st_ino)] = st.st_size
    return sum(seen.values())


@pytest.fixture
def output(tmp_path: Path) -> Path:
    out = tmp_path / "backups"
    out.mkdir()
    previous = None
    for i, name in enumerate(NAMES):
        files = {**FILES, "docs/D__d1/pages/P__p.md": f"page version {i // 2}\n".encode() * 50}
        make_run(out, name, files, link_from=previous)
        previous = name
    return out


def prune(output: Path, *args: str) -> t.Any:
    return coda_backup("prune", "--output", str(output), *args)


def remaining(output: Path) -> list[str]:
    return sorted(p.name for p in output.iterdir() if p.name[0].isdigit())


def test_keep_daily_removes_the_rest_and_reports_space_the_disk_gets_back(output: Path) -> None:
    before = distinct_bytes(output)
    dry = prune(output, "--keep-daily", "2", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert remaining(output) == NAMES
    ran = prune(output, "--keep-daily", "2", "--json")
    assert ran.returncode == 0, ran.stderr
    body = ran.json()
    decisions = {r["run"]: (r["keep"], r["reasons"]) for r in body["runs"]}
    assert decisions == {
        "2026-01-03T020000Z": (True, ["latest", "daily"]),
        "2026-01-03T010000Z": (False, []),
        "2026-01-02T010000Z": (True, ["daily"]),
        "2026-01-01T010000Z": (False, []),
    }
    assert remaining(output) == ["2026-01-02T010000Z", "2026-01-03T020000Z"]
    assert body["bytes_freed"] == before - distinct_bytes(output) == dry.json()["bytes_freed"]
    assert body["bytes_freed"] > 0
    # the big CSV is linked from the kept runs: it freed nothing
    assert body["bytes_freed"] < len(BIG)


def test_latest_is_never_removed_and_text_report(output: Path) -> None:
    (output / "latest.txt").write_text(NAMES[0] + "\n", encoding="utf-8")
    ran = prune(output, "--keep-last", "1")
    assert ran.returncode == 0, ran.stderr
    assert remaining(output) == [NAMES[0], NAMES[-1]]
    lines = ran.stdout.splitlines()
    assert f"keep   {NAMES[0]}  (latest)" in lines
    assert f"keep   {NAMES[-1]}  (last)" in lines
    assert f"remove {NAMES[1]}" in lines
    assert lines[-1].startswith("prune: 2 kept, removed 2; freed ")


def test_read_only_runs_are_removed(output: Path) -> None:
    for path in sorted((output / NAMES[0]).rglob("*"), reverse=True):
        path.chmod(0o500 if path.is_dir() else 0o400)
    (output / NAMES[0]).chmod(0o500)
    assert prune(output, "--keep-last", "1").returncode == 0
    assert remaining(output) == [NAMES[-1]]


def test_no_policy_is_a_usage_error(output: Path) -> None:
    for args in ([], ["--keep-last", "0"], ["--keep-daily", "-3"], ["--keep-within", "3w"]):
        ran = prune(output, *args)
        assert ran.returncode == 2, (args, ran.stderr)
        assert "error" in ran.stderr
    assert remaining(output) == NAMES


HOLD = """
import sys, time
from pathlib import Path
from coda_backup.lock import output_lock
with output_lock(Path(sys.argv[1]), command="backup", wait=0):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_lock(output: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(output)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_waits_then_names_the_holder(output: Path) -> None:
    holder = hold_lock(output)
    try:
        ran = prune(output, "--keep-last", "1", "--lock-wait", "0.5")
    finally:
        holder.kill()
        holder.wait()
    assert ran.returncode == 1
    errors = [line for line in ran.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"pid {holder.pid} on " in errors[0], ran.stderr
    assert "coda-backup backup" in errors[0]
    assert remaining(output) == NAMES


def test_a_lock_left_by_a_dead_process_is_taken_over(output: Path) -> None:
    holder = hold_lock(output)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (output / ".coda-backup.lock").read_text(encoding="utf-8")  # its pid is still there
    ran = prune(output, "--keep-last", "1", "--lock-wait", "0")
    assert ran.returncode == 0, ran.stderr
    assert remaining(output) == [NAMES[-1]]


def test_leftover_partial_folders_are_cleaned_unless_alive(output: Path) -> None:
    dead = output / ".partial-2026-01-04T000000Z"
    (dead / "docs").mkdir(parents=True)
    (dead / ".lock").write_bytes(b"")
    alive = output / ".partial-2026-01-05T000000Z"
    alive.mkdir()
    (alive / ".lock").write_bytes(b"")
    holder = hold_lock(alive.parent / alive.name)  # the same flock a running target holds
    try:
        (alive / ".coda-backup.lock").rename(alive / ".lock")  # its lock file is `.lock`
        ran = prune(output, "--keep-last", "10")
    finally:
        holder.kill()
        holder.wait()
    assert ran.returncode == 0, ran.stderr
    assert not dead.exists()
    assert alive.is_dir()
    assert f"clean  {dead.name}  (left by an interrupted run)" in ran.stdout
