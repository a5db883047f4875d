"""Run child processes and measure them: wall time, CPU (user+sys) and peak RSS per process.

CPU comes from `os.wait4` on each direct child, so it counts nothing of this process
(where the fake Coda API runs, in a thread). `wait4` reports a child together with the
descendants it reaped itself: for `coda-backup` that is coda-backup + tap-coda +
target-files.

Peak RSS: `ru_maxrss` of a child forked from this (large) process starts at this process's
own peak (Linux keeps the pre-`exec` image's high-water mark), so it is useless here.
`exact=True` starts each command through `benchmarks.launch`, a small process that forks
it, waits for it and reports its own `wait4` numbers: exact CPU and peak RSS. Grandchildren
(tap and target under coda-backup) are watched through `/proc/<pid>/status` (`VmHWM`, the
kernel's high-water mark for the process's memory) every few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.02


@dataclass
class ProcStats:
    name: str
    pid: int
    returncode: int | None = None
    cpu_user: float = 0.0  # seconds; for a direct child: itself + descendants it reaped
    cpu_sys: float = 0.0
    maxrss_kb: int = 0  # exact (benchmarks.launch) or the highest VmHWM polled
    ended: float | None = None  # time.monotonic()
    direct: bool = True  # False: a grandchild: peak RSS and CPU polled from /proc

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_sys


@dataclass
class RunStats:
    started: float  # time.monotonic() at spawn
    ended: float
    procs: dict[str, ProcStats] = field(default_factory=dict)
    timed_out: bool = False

    @property
    def wall(self) -> float:
        return self.ended - self.started

    def ok(self) -> bool:
        """Every direct child exited 0 in time."""
        direct = [p for p in self.procs.values() if p.direct]
        return not self.timed_out and all(p.returncode == 0 for p in direct)


def _read_status_kb(pid: int, key: bytes) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:  # noqa: PTH123 - hot loop
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


_TICK = os.sysconf("SC_CLK_TCK")


def _read_cpu(pid: int) -> tuple[float, float] | None:
    """utime, stime (s) of a live process or an unreaped zombie, from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # "pid (comm) state ppid ..." — utime and stime are fields 14 and 15
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children_of(roots: set[int]) -> dict[int, str]:
    """Every live descendant of `roots`: pid -> command line (one scan of /proc)."""
    parent: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
        except OSError:
            continue
        # "pid (comm) state ppid ..." — comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        parent[int(entry.name)] = int(fields[1])
    found: dict[int, str] = {}
    frontier = set(roots)
    while frontier:
        nxt = {pid for pid, ppid in parent.items() if ppid in frontier and pid not in found}
        for pid in nxt:
            found[pid] = _cmdline(pid)
        frontier = nxt
    return found


def watch(
    procs: dict[str, subprocess.Popen],
    *,
    started: float,
    descendants: dict[str, str] | None = None,
    timeout: float = 3600.0,
    reports: dict[str, Path] | None = None,
) -> RunStats:
    """Wait for every process in `procs`, collecting CPU and peak RSS.

    `descendants` maps a name to a substring of the command line of a grandchild whose peak
    RSS should be tracked (e.g. {"tap": "tap-coda"}); it is found by scanning /proc.
    `reports` maps a name to the JSON file its `benchmarks.launch` wrapper writes; those
    exact numbers replace the wrapper's own.
    """
    watcher = _Watcher(procs, started, dict(descendants or {}))
    deadline = started + timeout
    while watcher.pending:
        watcher.find_descendants()
        watcher.poll_rss()
        watcher.reap()
        if watcher.pending and time.monotonic() > deadline:
            watcher.kill()
            deadline = float("inf")
        if watcher.pending:
            time.sleep(POLL_SECONDS)
    stats = watcher.stats
    stats.ended = max((s.ended for s in stats.procs.values() if s.ended), default=started)
    for name, path in (reports or {}).items():
        try:
            exact = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # killed before it could report: keep what was polled
        st = stats.procs[name]
        st.returncode = exact["returncode"]
        st.cpu_user, st.cpu_sys = exact["cpu_user"], exact["cpu_sys"]
        st.maxrss_kb = exact["maxrss_kb"]
    return stats


class _Watcher:
    def __init__(
        self, procs: dict[str, subprocess.Popen], started: float, wanted: dict[str, str]
    ) -> None:
        self.procs = procs
        self.stats = RunStats(started=started, ended=started)
        self.pending = {p.pid: name for name, p in procs.items()}
        for name, p in procs.items():
            self.stats.procs[name] = ProcStats(name, p.pid)
        self.wanted = wanted
        self.tracked: dict[int, str] = {}  # grandchild pid -> name
        self.last_scan = 0.0

    def find_descendants(self) -> None:
        now = time.monotonic()
        every = 0.05 if len(self.tracked) < len(self.wanted) else 1.0
        if not self.wanted or now - self.last_scan < every:
            return
        self.last_scan = now
        for pid, cmd in _children_of(set(self.pending)).items():
            for name, needle in self.wanted.items():
                if needle in cmd and pid not in self.tracked and name not in self.stats.procs:
                    self.tracked[pid] = name
                    self.stats.procs[name] = ProcStats(name, pid, direct=False)

    def poll_rss(self) -> None:
        # VmHWM only: ru_maxrss of a child forked from this process starts at our own peak.
        for pid, name in [*self.tracked.items(), *self.pending.items()]:
            st = self.stats.procs[name]
            if not st.direct:
                # A grandchild's CPU: the last sample before its parent reaps it (a zombie
                # still shows its final utime and stime), so at most one poll short.
                cpu = _read_cpu(pid)
                if cpu is not None:
                    st.cpu_user, st.cpu_sys = cpu
            hwm = _read_status_kb(pid, b"VmHWM:")
            if hwm is None:
                self.tracked.pop(pid, None)  # gone (or a zombie: its memory is released)
                continue
            st.maxrss_kb = max(st.maxrss_kb, hwm)

    def reap(self) -> None:
        for pid, name in list(self.pending.items()):
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done == 0:
                continue
            st = self.stats.procs[name]
            st.returncode = os.waitstatus_to_exitcode(status)
            st.cpu_user, st.cpu_sys = usage.ru_utime, usage.ru_stime
            st.ended = time.monotonic()
            self.procs[name].returncode = st.returncode  # Popen must not wait() again
            del self.pending[pid]

    def kill(self) -> None:
        self.stats.timed_out = True
        for pid in [*self.pending, *self.tracked]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def launched(argv: list[str], report: Path) -> list[str]:
    """`argv` run through benchmarks.launch, which writes exact numbers to `report`."""
    return [sys.executable, "-m", "benchmarks.launch", str(report), "--", *argv]


def spawn(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    stdin: int | None = subprocess.DEVNULL,
    stdout: int | Path | None = None,
    stderr: Path | None = None,
) -> subprocess.Popen:
    out = stdout.open("wb") if isinstance(stdout, Path) else stdout
    err = stderr.open("wb") if stderr is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=out if out is not None else subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,  # one process group per child: a timeout kills it all
        )
    finally:
        for handle in (out, err):
            if hasattr(handle, "close"):
                handle.close()


def run_single(
    name: str,
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    logs: Path,
    descendants: dict[str, str] | None = None,
    timeout: float = 3600.0,
    exact: bool = False,
) -> RunStats:
    reports = {name: logs / f"{name}.rusage.json"} if exact else {}
    if exact:
        argv = launched(argv, reports[name])
    started = time.monotonic()
    proc = spawn(argv, env=env, cwd=cwd, stdout=logs / f"{name}.out", stderr=logs / f"{name}.err")
    return watch(
        {name: proc},
        started=started,
        descendants=descendants,
        timeout=timeout,
        reports=reports,
    )


def run_pipe(
    tap: tuple[str, list[str]],
    target: tuple[str, list[str]],
    *,
    env: dict[str, str],
    cwd: Path,
    logs: Path,
    timeout: float = 3600.0,
) -> RunStats:
    """`tap | target` connected by an OS pipe, as a shell would; both measured exactly."""
    reports = {name: logs / f"{name}.rusage.json" for name in (tap[0], target[0])}
    read_end, write_end = os.pipe()
    started = time.monotonic()
    try:
        target_proc = spawn(
            launched(target[1], reports[target[0]]),
            env=env,
            cwd=cwd,
            stdin=read_end,
            stdout=logs / f"{target[0]}.out",
            stderr=logs / f"{target[0]}.err",
        )
        tap_proc = spawn(
            launched(tap[1], reports[tap[0]]),
            env=env,
            cwd=cwd,
            stdout=write_end,
            stderr=logs / f"{tap[0]}.err",
        )
    finally:
        os.close(read_end)
        os.close(write_end)
    return watch(
        {tap[0]: tap_proc, target[0]: target_proc},
        started=started,
        timeout=timeout,
        reports=reports,
    )
