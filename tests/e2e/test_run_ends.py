"""The ends of a run (issue #12): what the target promotes, what coda-backup says, and
what a killed run leaves behind.

- target-files promotes a tap-coda run only once it has seen the tap finish: its final
  STATE after the `failures` stream. The real tap's output, cut at every interesting
  line and at seeded random ones, is fed to the real target: `latest` never moves and
  the one line says what arrived.
- a run that was promoted is never reported as "nothing usable written" (exit 1).
- coda-backup's work files live in the output folder, where the next run removes them,
  even after a SIGKILL; nothing is left in the system's temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fakecoda import FakeCoda, Fault, build_demo_workspace
from tests.e2e.backup_cli import clean_env, console_script, run_coda_backup
from tests.e2e.procs import children_of
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, check_run
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, child_env, run_tap, script

TOKEN = "tok-ENDS-sEcReT-4d2a"


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    ws = build_demo_workspace()
    page = ws.docs[0].pages[1]  # one real failure, so the failures stream has a record
    return start_module_fake(
        ws, token=TOKEN, faults=[Fault("status", path_re=rf"/pages/{page.id}/export$", status=410)]
    )


@pytest.fixture(scope="module")
def tap_lines(fake: FakeCoda, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """One whole run of the real tap, line by line."""
    done = run_tap({"api_url": fake.url, **FAST_TAP}, tmp_path_factory.mktemp("tap"), token=TOKEN)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines(keepends=True)


def feed_target(
    output: Path, work: Path, lines: list[str], **settings: object
) -> subprocess.CompletedProcess[str]:
    work.mkdir(parents=True, exist_ok=True)
    config = work / "target.json"
    config.write_text(json.dumps({"output_dir": str(output), **settings}), encoding="utf-8")
    return subprocess.run(
        [script("target-files"), "--config", str(config)],
        input="".join(lines),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
        check=False,
    )


def kinds(lines: list[str]) -> list[tuple[str, str | None]]:
    parsed = [json.loads(line) for line in lines]
    return [(m["type"], m.get("stream")) for m in parsed]


def interesting_cuts(lines: list[str]) -> dict[str, int]:
    """Where a cut once fooled the target, or might: line counts kept."""
    seen = kinds(lines)
    failures_schema = seen.index(("SCHEMA", "failures"))
    records = [i for i, k in enumerate(seen) if k == ("RECORD", "failures")]
    assert records, "the run has a failure record"
    assert seen[-1][0] == "STATE", "the tap ends with its final STATE"
    return {
        "after the failures SCHEMA": failures_schema + 1,
        "after the last failure record": records[-1] + 1,
        "before the final STATE": len(lines) - 1,
    }


def test_the_tap_ends_with_a_state_after_its_failures_stream(tap_lines: list[str]) -> None:
    seen = kinds(tap_lines)
    assert seen[-1] == ("STATE", None)
    assert seen.index(("SCHEMA", "failures")) < len(seen) - 1


def test_a_cut_anywhere_leaves_latest_untouched_and_says_what_arrived(
    fake: FakeCoda, tap_lines: list[str], tmp_path: Path
) -> None:
    output = tmp_path / "backups"
    whole = feed_target(output, tmp_path / "w0", tap_lines)
    assert whole.returncode == 0, whole.stderr[-2000:]
    latest = (output / "latest.txt").read_text(encoding="utf-8")
    check_run(Tree(output / latest.strip(), fake.workspace, fake.url), listed_docs(fake.workspace))
    runs = sorted(p.name for p in output.iterdir())

    rng = random.Random(12)
    cuts = interesting_cuts(tap_lines)
    cuts |= {f"seeded {n}": rng.randrange(1, len(tap_lines) - 1) for n in range(6)}
    for label, keep in cuts.items():
        cut = feed_target(output, tmp_path / f"w-{keep}", tap_lines[:keep])
        assert cut.returncode != 0, (label, cut.stderr[-1000:])
        assert (output / "latest.txt").read_text(encoding="utf-8") == latest, label
        assert sorted(p.name for p in output.iterdir()) == runs, label  # no partial left
        said = [line for line in cut.stderr.splitlines() if "latest unchanged" in line]
        assert len(said) == 1, (label, cut.stderr[-2000:])
        if kinds(tap_lines[:keep])[-1][1] == "failures" or label.startswith("before"):
            assert "tap-coda never finished" in said[0], (label, said)
            assert f"{keep} lines" in said[0], (label, said)


def test_a_target_whose_parent_is_gone_promotes_nothing(
    tap_lines: list[str], tmp_path: Path
) -> None:
    """coda-backup passes its pid (`parent_pid`): killed, it leaves an orphaned target that
    may still read the tap's whole output, end marker included, but must not promote a run
    coda-backup never approved (its empty-run guard had no say)."""
    output = tmp_path / "backups"
    gone = feed_target(output, tmp_path / "w1", tap_lines, parent_pid=os.getppid())
    assert gone.returncode != 0
    assert not (output / "latest.txt").exists()
    assert [p.name for p in output.iterdir()] == []  # its partial folder is gone too
    (said,) = [line for line in gone.stderr.splitlines() if "latest unchanged" in line]
    assert f"parent process {os.getppid()} is gone" in said
    ours = feed_target(output, tmp_path / "w2", tap_lines, parent_pid=os.getpid())
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert (output / "latest.txt").is_file()


def test_a_run_promoted_then_its_target_killed_is_not_nothing_written(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """SIGKILL of target-files the moment `latest` names the new run: coda-backup exits 0
    (the target was done) or 3 (its state lost, said so), never 1 ("nothing usable
    written")."""
    fake = start_fake(build_demo_workspace(), token=TOKEN)
    output = tmp_path / "backups"
    first = run_coda_backup(output=output, fake=fake, token=TOKEN)
    assert first.returncode == 0, first.stderr
    assert first.latest
    proc = subprocess.Popen(
        [console_script("coda-backup"), "--output", str(output), "--api-url", fake.url],
        env=clean_env(CODA_API_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while proc.poll() is None:
        if (output / "latest.txt").read_text(encoding="utf-8").strip() != first.latest:
            for pid in (p for p, cmd in children_of(proc.pid).items() if "target-files" in cmd):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.001)
    _, stderr = proc.communicate(timeout=120)
    lost = "its state was not saved" in stderr
    assert proc.returncode == (3 if lost else 0), stderr
    if lost:  # state.json still belongs to the run that made its bookmarks
        state = json.loads((output / "state.json").read_text(encoding="utf-8"))
        assert state["run_id"] == first.latest


def test_a_sigkilled_backup_leaves_its_work_folder_for_the_next_run_only(
    fake: FakeCoda, tmp_path: Path
) -> None:
    output, tmp = tmp_path / "backups", tmp_path / "tmp"
    tmp.mkdir()
    env = clean_env(CODA_API_TOKEN=TOKEN, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [console_script("coda-backup"), "--output", str(output), "--api-url", fake.url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(output.glob(".coda-backup-work-*/tap.json")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    children = list(children_of(proc.pid))
    proc.kill()
    proc.wait()
    for pid in children:  # what a SIGKILL of a whole process group would do
        with_suppressed_kill(pid)
    (work,) = output.glob(".coda-backup-work-*")
    assert (work.stat().st_mode & 0o777) == 0o700
    again = run_coda_backup(output=output, fake=fake, token=TOKEN, env={"TMPDIR": str(tmp)})
    assert again.returncode == 3, again.stderr
    assert not list(output.glob(".coda-backup-work-*"))
    assert list(tmp.iterdir()) == []  # nothing of either run in the system's temp folder


def with_suppressed_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
