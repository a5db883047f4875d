"""CPU of each process of one full backup of `make bench`'s workspace (issue #14, point 4).

    python -m benchmarks.cpu_backup [--runs 3] [--json FILE] [--py-spy DIR] [--top 25]

Builds the bench workspace (4 docs, 100 pages, 30 tables, 100,000 rows), serves it without
limits or latency (`scenarios.cpu_config`), and runs `coda-backup` with its default
settings (the tap still paces itself at Coda's limits) `--runs` times. For each run it
reports the CPU (user + sys) of coda-backup's own process (the relay), tap-coda and
target-files, each read from `/proc/<pid>/stat` until the process is gone, and checks that
nothing was lost. The least CPU of each process over the runs is kept: on a shared machine
a neighbour only ever adds CPU.

`--py-spy DIR` adds one run under py-spy (`--subprocesses`, every thread, a sample kept
only while its thread holds the GIL: Python's CPU, not its waits) and prints, per process,
the functions with the most samples, by own time and including callees. py-spy is not a
project dependency: `pip install py-spy` to use it.

It imports only what every version since the 2026-11-27 bench has (`benchmarks.scenarios`),
so the same file measures an older checkout: copy it into that checkout's `benchmarks/`
and run it with that checkout's venv.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import scenarios

PROCESSES = {"tap": "tap-coda", "target": "target-files", "relay": "coda-backup"}
_TICK = os.sysconf("SC_CLK_TCK")
_POLL = 0.02


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, utime + stime in s) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(root: int) -> dict[int, str]:
    """Live descendants of `root` named by the console script they run."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = st[0]
    found: dict[int, str] = {}
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor is not None and ancestor != root and ancestor in parents:
            ancestor = parents.get(ancestor)
        if root in (ancestor, pid):
            cmd = _cmdline(pid)
            if "py-spy" in cmd.split(" ", 1)[0]:
                continue
            for name, script in PROCESSES.items():
                if f"/{script} " in cmd or cmd.startswith(f"{script} "):
                    found[pid] = name
                    break
    return found


def watch(argv: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run `argv`; the last CPU seen of each named process under it, wall, exit code."""
    cpu: dict[str, float] = {}
    started = time.monotonic()
    with log.open("wb") as stderr:
        proc = subprocess.Popen(argv, env=env, cwd=scenarios.REPO, stderr=stderr,
                                stdout=subprocess.DEVNULL)  # fmt: skip
        known: dict[int, str] = {}
        while proc.poll() is None:
            known.update(_descendants(proc.pid))
            for pid, name in known.items():
                # a zombie still shows its final times until its parent reaps it
                if (st := _stat(pid)) is not None:
                    cpu[f"{name}:{pid}"] = st[1]
            time.sleep(_POLL)
    by_name: dict[str, float] = collections.defaultdict(float)
    for key, seconds in cpu.items():
        by_name[key.split(":")[0]] += seconds
    return {"returncode": proc.returncode, "wall": time.monotonic() - started, "cpu": by_name}


def one_run(fake: Any, where: Path, wrap: list[str] | None = None) -> dict[str, Any]:
    output = where / "backup"
    shutil.rmtree(output, ignore_errors=True)
    argv = [scenarios.script("coda-backup"), "--output", str(output), "--api-url", fake.url]
    run = watch((wrap or []) + argv, scenarios.child_env(), where / "coda-backup.stderr")
    check = scenarios.check_backup(output, fake.workspace)
    run["ok"] = run["returncode"] == 0 and bool(check.get("ok"))
    run["rows"], run["pages"] = check.get("rows_written"), check.get("pages_written")
    return run


def profile_summary(raw: Path, top: int) -> dict[str, dict[str, list[tuple[str, int]]]]:
    """py-spy's raw stacks → per process, the top functions by own and inclusive samples."""
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    incl: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        # a child's stacks sit under its parent's process frame: the innermost one names it
        process = [f for f in frames if f.startswith("process ")][-1:] or [""]
        name = next((n for n, s in PROCESSES.items() if f"/{s} " in process[0]), "other")
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames or not count.isdigit():
            continue
        totals[name] += int(count)
        own[name][frames[-1]] += int(count)
        for frame in set(frames):
            incl[name][frame] += int(count)
    return {
        name: {
            "samples": totals[name],
            "own": own[name].most_common(top),
            "inclusive": incl[name].most_common(top),
        }
        for name in totals
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu_backup")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--py-spy", type=Path, dest="pyspy")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    s = scenarios.FULL
    ws = scenarios.build_bench_workspace(docs=s.docs, pages=s.pages, tables=s.tables, rows=s.rows)
    fake = scenarios.start_fake(ws, scenarios.cpu_config())
    where = Path(tempfile.mkdtemp(prefix="coda-cpu-"))
    result: dict[str, Any] = {"runs": []}
    try:
        for _ in range(args.runs):
            result["runs"].append(one_run(fake, where))
            print(json.dumps(result["runs"][-1]), file=sys.stderr)
        if args.pyspy:
            args.pyspy.mkdir(parents=True, exist_ok=True)
            raw = args.pyspy / "backup.raw.txt"
            spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
                   "--nonblocking", "--gil", "--function", "--format", "raw",
                   "-o", str(raw), "--"]  # fmt: skip
            result["profiled_run"] = one_run(fake, where, spy)
            result["profile"] = profile_summary(raw, args.top)
    finally:
        fake.stop()
        shutil.rmtree(where, ignore_errors=True)
    runs = [r for r in result["runs"] if r["ok"]]
    result["least_cpu"] = (
        {n: min(r["cpu"].get(n, 0.0) for r in runs) for n in PROCESSES} if runs else {}
    )
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    print(text)
    return 0 if len(runs) == len(result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
