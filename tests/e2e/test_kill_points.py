"""SIGKILL at seeded moments (issue #12), in full and incremental runs: coda-backup and its
children killed outright (target first, as a power cut would), or every second moment
coda-backup alone (as an OOM killer would): its tap and target run in sessions of their own
and outlive it, and must not promote a run it never approved.

After every kill, once no process of the run is left: `latest`, if there is one, names a
complete run, and every promoted run folder equals the fake's ground truth. One moment in
five then starts a second run on the same output: it succeeds, and no temporary file of the
killed run survives it.

`CODA_KILL_MOMENTS` sets how many moments (default 10, in `make test`; `make test-kill`
runs 100).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fakecoda import FakeCoda, build_demo_workspace
from tests.e2e.backup_cli import clean_env, console_script, run_coda_backup
from tests.e2e.procs import children_of, zombie
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, check_run
from tests.fakes import StartFake

TOKEN = "tok-KILL-sEcReT-2c9d"
MOMENTS = int(os.environ.get("CODA_KILL_MOMENTS", "10"))
LOCK = ".coda-backup.lock"

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")


class Baseline:
    """A finished first run to copy for incremental cases, and how many API requests a
    full and an incremental run make (a kill moment is a number of requests)."""

    def __init__(self, fake: FakeCoda, root: Path) -> None:
        self.fake, self.output = fake, root / "backups"
        fake.reset_log()
        first = run_coda_backup(output=self.output, fake=fake, token=TOKEN)
        assert first.returncode == 0, first.stderr
        self.full_requests = len(fake.log)
        fake.reset_log()
        again = run_coda_backup("--incremental", output=self.output, fake=fake, token=TOKEN)
        assert again.returncode == 0, again.stderr
        self.incremental_requests = len(fake.log)


@pytest.fixture(scope="module")
def baseline(start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    fake = start_module_fake(build_demo_workspace(), token=TOKEN, latency=0.005)
    return Baseline(fake, tmp_path_factory.mktemp("baseline"))


def kill_at(
    output: Path, fake: FakeCoda, incremental: bool, point: int, total: int, *, alone: bool
) -> None:
    """Start coda-backup; after `point` API requests (past `total`: that many 5 ms steps
    after the last one, while the run assembles and promotes) kill its process group and,
    unless `alone`, its children first; then wait until none of them is left."""
    fake.reset_log()
    args = [console_script("coda-backup"), "--output", str(output), "--api-url", fake.url]
    proc = subprocess.Popen(
        [*args, *(["--incremental"] if incremental else [])],
        env=clean_env(CODA_API_TOKEN=TOKEN),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and len(fake.log) < min(point, total):
        assert time.monotonic() < deadline
        time.sleep(0.001)
    if point > total:
        time.sleep((point - total) * 0.005)
    children = children_of(proc.pid)
    if not alone:
        for pid in sorted(children, key=lambda p: "target-files" not in children[p]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):  # else the run was over
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    while any(Path(f"/proc/{pid}").exists() and not zombie(pid) for pid in children):
        assert time.monotonic() < deadline, children  # an orphan that never ends
        time.sleep(0.01)


def promoted_runs(output: Path) -> list[Path]:
    if not output.is_dir():
        return []
    return [p for p in output.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0] != "."]


def check_after_kill(output: Path, fake: FakeCoda) -> None:
    ws = fake.workspace
    runs = promoted_runs(output)
    for run in runs:  # every promoted run is whole, not only `latest`
        check_run(Tree(run, ws, fake.url), listed_docs(ws))
    latest = output / "latest.txt"
    if latest.exists():
        name = latest.read_text(encoding="utf-8").strip()
        assert name in {p.name for p in runs}
        assert str((output / "latest").readlink()) == name


CASES = [
    pytest.param(seed, seed % 2 == 1, seed % 5 == 0, id=f"{seed}-{'inc' if seed % 2 else 'full'}")
    for seed in range(MOMENTS)
]


@pytest.mark.parametrize(("seed", "incremental", "second"), CASES)
def test_sigkill_at_a_seeded_moment(
    baseline: Baseline, tmp_path: Path, seed: int, incremental: bool, second: bool
) -> None:
    fake = baseline.fake
    output = tmp_path / "backups"
    if incremental:
        shutil.copytree(baseline.output, output, symlinks=True)
    total = baseline.incremental_requests if incremental else baseline.full_requests
    point = random.Random(f"kill/{seed}").randint(0, total + 40)
    kill_at(output, fake, incremental, point, total, alone=seed % 4 >= 2)
    check_after_kill(output, fake)
    if not second:
        return
    again = run_coda_backup(
        *(["--incremental"] if (output / "state.json").exists() else []),
        output=output,
        fake=fake,
        token=TOKEN,
    )
    assert again.returncode == 0, (point, again.stderr)
    check_after_kill(output, fake)
    assert again.latest == (output / "latest.txt").read_text(encoding="utf-8").strip()
    hidden = sorted(p.name for p in output.iterdir() if p.name.startswith("."))
    assert hidden == [LOCK], (point, hidden)  # no temporary file of the killed run survives
