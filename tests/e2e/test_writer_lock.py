"""One writer at a time: two real `coda-backup` runs on one output folder, and a run
that finds the folder held by another process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import Result, run_coda_backup

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]
LOCK = ".coda-backup.lock"


def wait_for_holder(output: Path, timeout: float = 60) -> dict[str, t.Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return t.cast("dict[str, t.Any]", json.loads((output / LOCK).read_text("utf-8")))
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError("the first backup never took the lock")


def test_two_backups_at_once_run_one_after_the_other(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace(), export_seconds=0.3)
    output = tmp_path / "b"
    results: dict[str, Result] = {}

    def run(key: str, *args: str) -> None:
        results[key] = run_coda_backup(*args, output=output, fake=fake, timeout=300)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    holder = wait_for_holder(output)
    assert holder["command"] == "backup"
    second = threading.Thread(target=run, args=("second", "--incremental", "--lock-wait", "240"))
    second.start()
    first.join()
    second.join()
    one, two = results["first"], results["second"]
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    folder_one = next(line for line in one.stdout.splitlines() if line.startswith("Folder: "))
    folder_two = next(line for line in two.stdout.splitlines() if line.startswith("Folder: "))
    assert folder_one != folder_two
    assert "waiting for coda-backup backup" in two.stderr
    # the second ran after the first: incremental from its state, and holds the bookmarks
    latest = two.latest
    assert latest is not None and folder_two.endswith(latest)
    state = json.loads((output / "state.json").read_text(encoding="utf-8"))
    assert state["run_id"] == latest
    summary = two.summary()
    assert summary["run_id"] == latest
    assert summary["previous_run"] == Path(folder_one.removeprefix("Folder: ")).name


HOLD = """
import sys, time
from pathlib import Path
from coda_backup.lock import output_lock
with output_lock(Path(sys.argv[1]), command="prune", wait=0):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_backup_gives_up_on_a_held_folder_with_one_line(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    output = tmp_path / "b"
    output.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(output)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        result = run_coda_backup("--lock-wait", "1", output=output, fake=fake)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    errors = result.error_lines()
    assert len(errors) == 1, result.stderr
    assert f"coda-backup prune (pid {holder.pid} on " in errors[0]
    assert result.latest is None
    assert fake.count(method="GET") == 0  # it never started
    # the holder died: the next backup takes the lock over
    again = run_coda_backup("--lock-wait", "0", output=output, fake=fake)
    assert again.returncode == 0, again.stderr
