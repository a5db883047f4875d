"""Where the test suite's CPU goes (issue #11: the suite's speed).

    python -m benchmarks.suite_cpu [--results FILE] [--imports N] [-- PYTEST_ARGS...]

Runs the whole suite as `make test` does (`pytest -n auto`; other arguments after `--`)
with a `sitecustomize` on PYTHONPATH that makes every Python process of the run (tap-coda,
target-files, coda-backup, the xdist workers, Meltano's and the targets' own venvs) write
its own CPU (user + sys, `getrusage(RUSAGE_SELF)`) and the test that started it when it
exits. The suite's total is pytest's own CPU plus its waited-for descendants'
(`os.wait4`), so what no hook saw (Chromium, PostgreSQL, processes ended by a signal) is
the difference.

It then measures what one process of each console script spends importing its entry
module (the least of `--imports` runs: a neighbour on a shared machine only adds) and
reports the floor that start-up alone puts under the suite: processes times import CPU. The
budget beside it is what the issue asks, 124 s on two cores: 248 CPU-seconds.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BUDGET_CPU_S = 2 * 124.0
#: the console scripts whose start-up is measured, and the module each one imports
ENTRY_MODULES = {
    "tap-coda": "tap_coda.tap",
    "target-files": "target_files.target",
    "coda-backup": "coda_backup.cli",
}

# Written into the run's own sitecustomize.py: stdlib only, silent, one file per process.
_HOOK = """\
import atexit, os, resource, sys

def _tap_coda_suite_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if name == "__main__.py":
        name = "python -m " + os.path.basename(os.path.dirname(sys.argv[0]))
    elif name in ("-c", ""):
        name = "python -c"
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    path = os.path.join({log_dir!r}, str(os.getpid()))
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(f"{{name}}\\t{{usage.ru_utime + usage.ru_stime:.3f}}\\t{{test}}\\n")
    except OSError:
        pass

atexit.register(_tap_coda_suite_cpu)
"""


def hooked_env(log_dir: Path, hook_dir: Path) -> dict[str, str]:
    """This environment, with the hook that makes each Python process log its CPU to
    `log_dir` (written into `hook_dir`) first on PYTHONPATH."""
    hook = _HOOK.format(log_dir=str(log_dir))
    (hook_dir / "sitecustomize.py").write_text(hook, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook_dir), env.get("PYTHONPATH")]))
    return env


def run_suite(pytest_args: list[str], log_dir: Path, hook_dir: Path) -> tuple[int, float, float]:
    """(exit code, wall s, CPU s of pytest and every descendant it waited for)."""
    env = hooked_env(log_dir, hook_dir)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    meltano = REPO_ROOT / ".venv-meltano" / "bin" / "meltano"
    if meltano.exists():
        env.setdefault("MELTANO_BIN", str(meltano))
    command = [sys.executable, "-m", "pytest", "-q", *pytest_args]
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime


def read_log(log_dir: Path) -> list[tuple[str, float, str]]:
    """(program, CPU s, test id) of every process that wrote its line."""
    rows = []
    for path in log_dir.iterdir():
        parts = path.read_text(encoding="utf-8").rstrip("\n").split("\t")
        if len(parts) == 3:
            rows.append((parts[0], float(parts[1]), parts[2]))
    return rows


def import_cpu(module: str, runs: int) -> float:
    """The least CPU, over `runs` fresh interpreters, of importing `module`."""
    code = f"import time; t = time.process_time(); import {module}; print(time.process_time() - t)"
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
        )
        times.append(float(out.stdout.strip()))
    return min(times)


def report(
    rows: list[tuple[str, float, str]],
    *,
    code: int,
    wall: float,
    total_cpu: float,
    imports: dict[str, float],
    provenance: str = "",
) -> str:
    by_program: dict[str, list[float]] = collections.defaultdict(list)
    by_file: collections.Counter[str] = collections.Counter()
    for program, cpu, test in rows:
        by_program[program].append(cpu)
        if program in ENTRY_MODULES:
            by_file[test.split("::")[0] or "(no test)"] += cpu
    seen = sum(sum(v) for v in by_program.values())
    lines = [
        "# Where the suite's CPU goes",
        "",
        *([provenance, ""] if provenance else []),
        f"pytest exit {code}; wall {wall:.0f} s; CPU {total_cpu:.0f} s (user + sys of pytest "
        f"and every descendant), {total_cpu / wall:.2f} cores busy on {os.cpu_count()}.",
        "",
        "| program | processes | CPU s | CPU s each | import CPU s each |",
        "|---|---:|---:|---:|---:|",
    ]
    for program, cpus in sorted(by_program.items(), key=lambda kv: -sum(kv[1])):
        each = imports.get(program)
        lines.append(
            f"| {program} | {len(cpus)} | {sum(cpus):.1f} | {sum(cpus) / len(cpus):.2f} | "
            + (f"{each:.2f} |" if each is not None else "|")
        )
    lines.append(
        f"| not seen by the hook: other programs, processes ended by a signal | | "
        f"{total_cpu - seen:.1f} | | |"
    )
    floor = sum(len(by_program.get(p, [])) * cpu for p, cpu in imports.items())
    lines += [
        "",
        f"Start-up floor: the console scripts' processes times their import CPU = **{floor:.0f} "
        f"CPU-s**, against a budget of {BUDGET_CPU_S:.0f} CPU-s for 124 s on two cores.",
        "",
        "Console scripts' CPU by test file (top 15):",
        "",
        "| test file | CPU s |",
        "|---|---:|",
        *(f"| {name} | {cpu:.1f} |" for name, cpu in by_file.most_common(15)),
    ]
    return "\n".join(lines) + "\n"


def _provenance(pytest_args: list[str]) -> str:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    ).stdout.strip()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    python = sys.version.split()[0]
    return f"Run {when}, code {commit or '?'}, Python {python}, `pytest {' '.join(pytest_args)}`."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, help="write the report here too")
    parser.add_argument("--imports", type=int, default=7, help="runs per import measure")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's arguments")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="suite-cpu-") as tmp:
        log_dir, hook_dir = Path(tmp, "log"), Path(tmp, "hook")
        log_dir.mkdir()
        hook_dir.mkdir()
        pytest_args = args.pytest_args or ["-n", "auto"]
        code, wall, total = run_suite(pytest_args, log_dir, hook_dir)
        rows = read_log(log_dir)
    imports = {name: import_cpu(module, args.imports) for name, module in ENTRY_MODULES.items()}
    text = report(
        rows,
        code=code,
        wall=wall,
        total_cpu=total,
        imports=imports,
        provenance=_provenance(pytest_args),
    )
    sys.stdout.write(text)
    if args.results:
        args.results.write_text(text, encoding="utf-8")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
