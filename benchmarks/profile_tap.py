"""Where the tap's main thread spends its CPU at a scale size (issue #17).

    python -m benchmarks.profile_tap [--pages 1000] [--top 20] [--out DIR]

Builds the scale scenario's workspace of that size, serves it without limits or latency,
and runs `tap-coda` under cProfile twice: a full sync, then a no-change incremental from
the state the first one ended with. Prints, for each, the tap's CPU, its STATE messages
and their bytes, and the functions with the most cumulative time (the main thread only:
the sync and its message writing; export and read-ahead workers are not profiled).
"""

from __future__ import annotations

import argparse
import json
import pstats
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import scale, scenarios
from fakecoda import build_bench_workspace

WATCH = (
    "write_state",
    "asdict",
    "deepcopy",
    "_find_in_partitions_list",
    "format_message",
    "_sync_children",
    "write_message",
)


def profile_run(url: str, where: Path, name: str, state: Path | None) -> dict:
    config = scenarios.write_json(where / "tap.json", {"api_url": url, "max_concurrency": 16})
    prof, out = where / f"{name}.prof", where / f"{name}.out"
    argv = [sys.executable, "-m", "cProfile", "-o", str(prof), scenarios.script("tap-coda"),
            "--config", str(config)] + (["--state", str(state)] if state else [])  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out.open("wb") as stdout:
        subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL, check=True,
                       env=scenarios.child_env(LOGLEVEL="WARNING"), cwd=scenarios.REPO)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    states = [line for line in out.read_bytes().splitlines() if line.startswith(b'{"type":"STATE"')]
    if states:
        last = json.loads(states[-1])["value"]
        scenarios.write_json(where / f"{name}.state.json", last)
    return {
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "states": len(states),
        "state_bytes": sum(len(s) for s in states),
        "output_bytes": out.stat().st_size,
        "prof": prof,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_tap")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    size = next(s for s in scale.FULL_SIZES + scale.QUICK_SIZES if s.pages == args.pages)
    ws = build_bench_workspace(docs=size.docs, pages=size.pages, tables=size.tables,
                               rows=size.rows, seed=2)  # fmt: skip
    fake = scenarios.start_fake(ws, scenarios.cpu_config())
    where = args.out or Path(tempfile.mkdtemp(prefix="coda-profile-"))
    where.mkdir(parents=True, exist_ok=True)
    try:
        full = profile_run(fake.url, where, "full", None)
        unchanged = profile_run(fake.url, where, "unchanged", where / "full.state.json")
    finally:
        fake.stop()
    for name, run in (("full", full), ("no-change incremental", unchanged)):
        print(f"## {size.pages:,} pages, {name}: tap CPU {run['cpu']:.1f} s, "
              f"{run['states']} STATE messages, {run['state_bytes'] / 1e6:.1f} MB of STATE "
              f"of {run['output_bytes'] / 1e6:.1f} MB output\n")  # fmt: skip
        stats = pstats.Stats(str(run["prof"]))
        total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
        print("| function | cumulative s | share of main thread |\n|---|---:|---:|")
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])  # type: ignore[attr-defined]
        shown = 0
        for (file, line, func), (_cc, _nc, _tt, ct, _callers) in rows:
            if func in WATCH or shown < args.top:
                print(f"| `{Path(file).name}:{line} {func}` | {ct:.2f} | {ct / total:.0%} |")
                shown += 1
        print()
    print(f"profiles in {where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
