"""`make bench`: measure tap-coda + target-files against the fake Coda API with Coda's limits.

    python -m benchmarks.run [--quick] [--scenario full|incremental|cpu|memory|half-limits|
                                         scale|all]
                             [--results FILE] [--json FILE] [--keep] [--from-json FILE]
                             [--update]

A whole run (`--scenario all`, the default) writes benchmarks/RESULTS.md and every number
in benchmarks/RESULTS.json (compare them before and after a change); `--quick` or a single
scenario prints the report instead unless `--results`/`--json` are given; `--update`
puts the scenarios measured into the last RESULTS.json and renders RESULTS.md from it
(`make bench-scale`), each section saying which run it comes from. The exit code is 0
when every scenario completed and lost nothing, whatever the targets say (this measures,
it does not judge), 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import report, scale, scenarios

SCENARIOS = ("full", "incremental", "half-limits", "cpu", "memory", "scale")
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
#: Every number of the last full run, to compare before and after a change.
DEFAULT_JSON = DEFAULT_RESULTS.with_suffix(".json")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small workspace (CI smoke test)")
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--results", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write every number as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the backups and logs")
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="measure nothing: render the report from an earlier --json file",
    )
    parser.add_argument(
        "--scale-pages",
        type=lambda v: [int(x) for x in v.split(",")],
        help="scale scenario: only the sizes with these page counts (e.g. 1000,5000)",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="merge what this run measured into RESULTS.json and rewrite RESULTS.md",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds allowed per measured run"
    )
    return parser.parse_args(argv)


def machine(mode: str) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8", errors="replace").split()
    mem_kb = int(meminfo[meminfo.index("MemTotal:") + 1]) if "MemTotal:" in meminfo else 0
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        nproc = str(len(__import__("os").sched_getaffinity(0)))
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu_model": model,
        "nproc": int(nproc.strip()),
        "mem_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "singer_sdk": metadata.version("singer-sdk"),
        "git": git_state(),
        "mode": mode,
        "duration": 0.0,
    }


def git_state() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=scenarios.REPO, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [line for line in git("status", "--porcelain").splitlines() if line.strip()]
    return f"{head}" + (f" + {len(dirty)} uncommitted paths" if dirty else "")


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    sizes = scenarios.QUICK if args.quick else scenarios.FULL
    wanted = SCENARIOS if args.scenario == "all" else (args.scenario,)
    results: dict[str, Any] = {
        "machine": machine("quick" if args.quick else "full"),
        "sizes": vars(sizes) | {"cpu_rows": list(sizes.cpu_rows)},
        "scenarios": {},
    }
    sc = results["scenarios"]
    if "full" in wanted or "incremental" in wanted:
        session = scenarios.BackupSession(sizes, workdir, args.timeout)
        try:
            results["workspace"] = scenarios.workspace_facts(session.fake.workspace)
            say(f"full backup of {results['workspace']} …")
            sc["full"] = session.full()
            say(f"  full: {sc['full']['wall']:.1f} s, ratio {sc['full']['ratio']:.2f}")
            if "incremental" in wanted:
                say("incremental backups (nothing changed, then a few edits) …")
                sc["incremental"] = session.incremental()
                for r in sc["incremental"]:
                    say(f"  {r['label']}: {r['wall']:.1f} s, ratio {r['ratio']:.2f}")
        finally:
            session.close()
    if "half-limits" in wanted:
        say("full backup with the fake at half Coda's limits …")
        sc["half_limits"] = scenarios.half_limits(sizes, workdir, args.timeout)
        results.setdefault("workspace", sc["half_limits"].pop("workspace"))
        say(f"  half limits: {sc['half_limits']['wall']:.1f} s, ok={sc['half_limits']['ok']}")
    if "cpu" in wanted:
        say(f"CPU per row at {sizes.cpu_rows} rows: ours, naive, bare …")
        sc["cpu"] = scenarios.cpu(sizes, workdir, args.timeout)
        say(f"  µs/row: {json.dumps({k: round(v, 1) for k, v in sc['cpu']['slope_us'].items()})}")
    if "memory" in wanted:
        say(f"memory with a {sizes.memory_rows:,}-row table …")
        sc["memory"] = scenarios.memory(sizes, workdir, args.timeout)
        say(f"  peak RSS MB: {sc['memory']['rss_mb']}")
    if "scale" in wanted:
        say("scale: three workspace sizes, full and no-change, one after the other …")
        sc["scale"] = scale.scale(args.quick, workdir, args.timeout, say, args.scale_pages)
        sc["scale"]["machine"] = results["machine"]
    return results


def all_ok(results: dict[str, Any]) -> bool:
    sc = results["scenarios"]
    runs = [sc.get("full"), *(sc.get("incremental") or []), sc.get("half_limits"),
            sc.get("cpu"), sc.get("memory"), sc.get("scale")]  # fmt: skip
    return all(r["ok"] for r in runs if r)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="coda-bench-"))
    try:
        results = run(args, workdir)
    finally:
        if args.keep:
            say(f"backups and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["duration"] = time.monotonic() - started
    results["ok"] = all_ok(results)
    return results


def merged_into(path: Path, results: dict[str, Any]) -> dict[str, Any]:
    """The results in `path` with this run's scenarios in place of theirs."""
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    if old is None:
        return results
    if set(results["scenarios"]) >= set(old["scenarios"]):
        old["machine"] = results["machine"]  # every figure is this run's: so is the header
    old["scenarios"].update(results["scenarios"])
    old.setdefault("workspace", results.get("workspace"))
    old["ok"] = all_ok(old)
    return old


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json is not None:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        results = measure(args)
    if args.update:
        results = merged_into(DEFAULT_JSON, results)
    markdown = report.render(results)
    whole = (args.scenario == "all" or args.update) and not args.quick and args.from_json is None
    target = args.results or (DEFAULT_RESULTS if whole else None)
    if target is not None:
        target.write_text(markdown, encoding="utf-8")
        say(f"wrote {target}")
    else:
        print(markdown)
    json_out = args.json or (DEFAULT_JSON if whole else None)
    if json_out is not None:
        json_out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    say(f"done in {results['machine']['duration']:.0f} s; everything completed and nothing "
        f"lost: {results['ok']}")  # fmt: skip
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
