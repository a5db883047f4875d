"""Interruptions: `coda-backup` stopped at random points (SIGINT, SIGTERM) or its
`target-files` killed outright (SIGKILL), against a fake Coda API with some latency so
the blow lands mid-run.

Whatever the moment, afterwards: `latest` (symlink and latest.txt) names a complete run
that is the ground truth byte for byte (the previous one, or the new one if the blow came
after its promotion); every run folder is complete (a promoted run never holds a
half-written file); `state.json` is whole and belongs to a run folder; no child process
is left behind; and the next `--incremental` run succeeds, removing what the killed run
left (its `.partial-…` folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
import typing as t
from pathlib import Path

import pytest

from fakecoda import FakeCoda, build_demo_workspace
from tests.e2e.backup_cli import (
    FAST_TAP_SETTINGS,
    clean_env,
    console_script,
    message_lines,
    run_coda_backup,
)
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, check_run
from tests.fakes import StartFake

TOKEN = "tok-SIGNALS-sEcReT-91b2c3d4"
SEEDS = (1, 2)

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")


def children_of(pid: int) -> dict[int, str]:
    """Live child processes of pid -> their command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


#: coda-backup's writer lock file: it stays (removing it would race a process waiting on it)
LOCK = ".coda-backup.lock"


def check_output_folder(output: Path, ws: t.Any, url: str) -> str:
    """The invariants after any interruption; returns the run `latest` names."""
    latest = (output / "latest.txt").read_text(encoding="utf-8")
    assert latest.endswith("\n")
    latest = latest.strip()
    assert str((output / "latest").readlink()) == latest
    runs = [p for p in output.iterdir() if p.is_dir() and not p.name.startswith(".")]
    runs = [p for p in runs if not p.is_symlink()]
    assert latest in {p.name for p in runs}
    for run in runs:  # every promoted run is whole, not only `latest`
        check_run(Tree(run, ws, url), listed_docs(ws))
        assert not list(run.rglob(".*")), run  # no staging or temp leftovers
    state = json.loads((output / "state.json").read_text(encoding="utf-8"))
    assert state["run_id"] in {p.name for p in runs}
    assert isinstance(state["singer_state"], dict) and state["singer_state"].get("bookmarks")
    leftovers = {p.name for p in output.iterdir()} - {p.name for p in runs}
    leftovers -= {"latest", "latest.txt", "state.json", LOCK}
    assert all(name.startswith(".partial-") for name in leftovers), leftovers
    return latest


def start_and_interrupt(
    output: Path, fake: FakeCoda, how: str, extra_requests: int
) -> tuple[int, str, list[int]]:
    """Start coda-backup, wait until its target is writing (its `.partial-…` folder is
    there), let `extra_requests` more API requests pass (or the run end), then strike."""
    fake.reset_log()
    partials_before = {p.name for p in output.iterdir() if p.name.startswith(".partial-")}
    proc = subprocess.Popen(
        [
            console_script("coda-backup"),
            "--output",
            str(output),
            "--api-url",
            fake.url,
            "--include-shared",
        ],
        env=clean_env(CODA_API_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    started_at: int | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        if started_at is None:
            partials = {p.name for p in output.iterdir() if p.name.startswith(".partial-")}
            if partials - partials_before:
                started_at = len(fake.log)
        elif len(fake.log) >= started_at + extra_requests:
            break
        time.sleep(0.002)
    children = children_of(proc.pid)
    if how == "SIGKILL target":
        target = [pid for pid, cmd in children.items() if "target-files" in cmd]
        if target:
            os.kill(target[0], signal.SIGKILL)
    elif proc.poll() is None:
        proc.send_signal(signal.SIGINT if how == "SIGINT" else signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr, list(children)


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL target"])
def test_interrupted_runs_never_damage_latest_and_the_next_run_recovers(
    start_fake: StartFake, how: str, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    output = tmp_path / "backups"
    with start_fake(ws, token=TOKEN, latency=0.01) as fake:
        url = fake.url
        first = run_coda_backup("--include-shared", output=output, fake=fake, token=TOKEN)
        assert first.returncode == 0, first.stderr
        per_run = len(fake.log)
        for seed in SEEDS:
            before = check_output_folder(output, ws, url)
            state_before = (output / "state.json").read_bytes()
            # the target starts writing about 100 requests in (its start-up): from then on
            # to a little past the last request (assembling and promoting the run)
            point = random.Random(f"{how}/{seed}").randint(0, per_run // 6)
            code, stderr, children = start_and_interrupt(output, fake, how, point)

            assert "Traceback" not in stderr, stderr
            assert TOKEN not in stderr
            time.sleep(0.2)
            assert not [pid for pid in children if alive(pid)], "a child outlived coda-backup"
            latest = check_output_folder(output, ws, url)
            if latest == before:  # stopped before the new run was promoted
                assert (output / "state.json").read_bytes() == state_before
                expected = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL target": 1}[how]
                assert code == expected, (point, code, stderr)
                lines = message_lines(stderr)  # one line says why
                assert len(lines) == 1, stderr
            else:  # the blow came after promotion: the new run is whole, state may lag
                assert code in (0, 130, 143), (point, code, stderr)
            if how != "SIGKILL target":  # the target removed its own partial folder
                assert not [
                    p for p in output.iterdir() if p.name.startswith(".") and p.name != LOCK
                ]

            again = run_coda_backup(
                "--include-shared", "--incremental", output=output, fake=fake, token=TOKEN
            )
            assert again.returncode == 0, again.stderr
            assert check_output_folder(output, ws, url) == again.latest != latest
            assert not [p for p in output.iterdir() if p.name.startswith(".") and p.name != LOCK]
            state = json.loads((output / "state.json").read_text(encoding="utf-8"))
            assert state["run_id"] == again.latest


def test_leftovers_of_killed_runs_are_removed_by_the_next_run(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """What a run killed at the worst moment leaves (a partial folder whose lock nobody
    holds, `latest`'s temporary files, coda-backup's state or probe temp files) is removed
    by the next run: `latest`'s once old or their writer gone, coda-backup's own at once
    (it holds the output lock)."""
    ws = build_demo_workspace()
    output = tmp_path / "backups"
    with start_fake(ws, token=TOKEN) as fake:
        first = run_coda_backup("--include-shared", output=output, fake=fake, token=TOKEN)
        assert first.returncode == 0, first.stderr
        partial = output / ".partial-2020-01-01T000000Z"
        (partial / ".staging").mkdir(parents=True)
        (partial / ".lock").write_text("12345\n", encoding="utf-8")
        (partial / ".staging" / "rows-1.csv").write_text("half a row", encoding="utf-8")
        (output / ".latest.12345.tmp").symlink_to(first.latest)
        (output / ".latest.txt.12345.tmp").write_text("half", encoding="utf-8")
        (output / ".state-abc123.tmp").write_text('{"run_id": "x", "sing', encoding="utf-8")
        (output / ".coda-backup-probe-12345").write_bytes(b"")
        old = time.time() - 3600
        for path in output.glob(".*"):
            os.utime(path, (old, old), follow_symlinks=False)
        # a concurrent run's (a live process), just written: kept
        young = output / f".latest.{os.getpid()}.tmp"
        young.write_text("x", encoding="utf-8")

        again = run_coda_backup(
            "--include-shared", "--incremental", output=output, fake=fake, token=TOKEN
        )
        url = fake.url
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in output.glob(".*")) == [LOCK, young.name]
    young.unlink()
    assert check_output_folder(output, ws, url) == again.latest


def test_a_tap_stopped_by_sigterm_does_not_wait_for_exports_in_flight(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """In a plain shell pipe nobody kills the tap after SIGTERM: exports that would poll
    until `export_timeout` must end at once, or the tap hangs that long."""
    from fakecoda import Fault
    from tests.helpers import FAST_TAP, child_env, script

    stuck = [Fault("export_stuck")]
    with start_fake(build_demo_workspace(), token=TOKEN, faults=stuck) as fake:
        config = tmp_path / "tap.json"
        config.write_text(
            json.dumps({**FAST_TAP, "api_url": fake.url, "export_timeout": 3600}),
            encoding="utf-8",
        )
        log = tmp_path / "tap.stderr"
        # stderr to a file: an unread pipe fills up with log lines and blocks the tap itself
        with log.open("wb") as err:
            tap = subprocess.Popen(
                [script("tap-coda"), "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=child_env(TOKEN),
            )
        try:
            deadline = time.monotonic() + 60
            while fake.count(method="POST") < 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # wait until exports are in flight
            assert fake.count(method="POST") >= 2
            tap.send_signal(signal.SIGTERM)
            # generous: without the fix it waits for export_timeout (an hour)
            tap.wait(timeout=60)
        finally:
            if tap.poll() is None:
                tap.kill()
                tap.wait()
        assert TOKEN not in log.read_text(encoding="utf-8", errors="replace")


def threads_taking_stop_signals(pid: int) -> tuple[int, list[str]]:
    """How many threads pid runs, and the names of those other than its main thread that
    do not block SIGINT and SIGTERM (the kernel may hand the process's signal to any of
    those, where Python never runs the handler)."""
    stop = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    tasks = [task for task in Path(f"/proc/{pid}/task").iterdir() if task.name != str(pid)]
    taking = []
    for task in tasks:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            status = dict(
                line.split(":\t", 1)
                for line in (task / "status").read_text().splitlines()
                if ":\t" in line
            )
            if int(status["SigBlk"], 16) & stop != stop:
                taking.append(status["Name"].strip())
    return len(tasks) + 1, taking


def test_only_the_main_threads_take_a_stop_signal(start_fake: StartFake, tmp_path: Path) -> None:
    """A SIGTERM that lands on a worker thread leaves the main thread waiting on an export
    (CI saw a tap hang so, for the hour `export_timeout` allows): in coda-backup and in the
    tap it runs, every worker thread blocks SIGINT and SIGTERM, and the run stops at once."""
    from fakecoda import Fault

    stuck = [Fault("export_stuck")]
    with start_fake(build_demo_workspace(), token=TOKEN, faults=stuck) as fake:
        settings = {**FAST_TAP_SETTINGS, "export_timeout": 3600}
        proc = subprocess.Popen(
            [
                console_script("coda-backup"),
                "--output",
                str(tmp_path / "backups"),
                "--api-url",
                fake.url,
            ],
            env=clean_env(CODA_API_TOKEN=TOKEN, CODA_BACKUP_TAP_SETTINGS=json.dumps(settings)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while fake.count(method="POST") < 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # exports in flight: the tap's pools and threads are up
            assert fake.count(method="POST") >= 2
            tap = [pid for pid, cmd in children_of(proc.pid).items() if "tap-coda" in cmd]
            assert len(tap) == 1
            for pid in (proc.pid, tap[0]):
                threads, taking = threads_taking_stop_signals(pid)
                assert threads > 1 and taking == [], (pid, threads, taking)
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert TOKEN not in stderr
