"""CPU per row of the table streams next to the generic `rows` stream, into target-jsonl.

`python -m benchmarks.tablestreams [--rows N] [--runs K]`: the bench workspace (its tables
hold text, selects, people, multi-selects, currency, numbers, dates, checkboxes and
links) is served by the fake in this process with no rate limits or latency, so only the
two processes' CPU is measured: `tap-coda` (user + sys from `os.wait4`) and target-jsonl
(`make targets`). Side by side, alternating, `--runs` times each: the generic `rows`
stream (`simpleWithArrays`) and one table stream per base table (`rich`, typed). Prints a
Markdown section, kept in `benchmarks/RESULTS-tablestreams.md`. Issue #15's target: the
table streams' CPU per row within 1.3 times the generic stream's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import typing as t
from pathlib import Path

from benchmarks.scenarios import REPO, child_env, script
from fakecoda import FakeCoda, FakeConfig, build_bench_workspace

TOKEN = "bench-token-tables"
TARGET_RATIO = 1.3
TARGET_JSONL = REPO / ".venv-targets" / "jsonl" / "bin" / "target-jsonl"


def _cpu(rusage: t.Any) -> float:
    return float(rusage.ru_utime + rusage.ru_stime)


def _tap(url: str, workdir: Path, *, table_streams: bool) -> list[str]:
    """The tap with only the rows (generic) or only the table streams selected."""
    config = {
        "api_url": url,
        "table_streams": table_streams,
        "include_views": False,  # the table streams read base tables only: the same rows
        "rate_limit_reads": 0,
        "rate_limit_writes": 0,
        "rate_limit_list_docs": 0,
        "shared_pacing": False,
    }
    config_file = workdir / "tap.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    env = child_env(CODA_API_TOKEN=TOKEN)
    found = subprocess.run(
        [script("tap-coda"), "--config", str(config_file), "--discover"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        is_table = "coda-table-id" in root
        root["selected"] = is_table if table_streams else entry["stream"] == "rows"
    catalog_file = workdir / "catalog.json"
    catalog_file.write_text(json.dumps(catalog), encoding="utf-8")
    return [script("tap-coda"), "--config", str(config_file), "--catalog", str(catalog_file)]


def run_once(url: str, workdir: Path, *, table_streams: bool) -> dict[str, float]:
    """One `tap-coda | target-jsonl`: CPU seconds of each, and the records written."""
    out = workdir / ("tables" if table_streams else "rows")
    out.mkdir(parents=True, exist_ok=True)
    target_config = workdir / "target.json"
    target_config.write_text(json.dumps({"destination_path": str(out)}), encoding="utf-8")
    args = _tap(url, workdir, table_streams=table_streams)
    env = child_env(CODA_API_TOKEN=TOKEN)
    with Path(os.devnull).open("w", encoding="utf-8") as null:
        tap = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=null, env=env)
        target = subprocess.Popen(
            [str(TARGET_JSONL), "--config", str(target_config)],
            stdin=tap.stdout, stdout=null, stderr=null, env=child_env(),
        )  # fmt: skip
        assert tap.stdout is not None
        tap.stdout.close()
        _, tap_status, tap_usage = os.wait4(tap.pid, 0)
        _, target_status, target_usage = os.wait4(target.pid, 0)
    tap.returncode = target.returncode = 0  # reaped above
    if tap_status or target_status:
        raise RuntimeError(f"tap exit {tap_status}, target exit {target_status}")
    records = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in out.glob("*.jsonl"))
    for path in out.glob("*.jsonl"):
        path.unlink()
    return {"tap_cpu": _cpu(tap_usage), "target_cpu": _cpu(target_usage), "rows": records}


def measure(rows: int, runs: int) -> dict[str, t.Any]:
    ws = build_bench_workspace(docs=2, pages=6, tables=10, rows=rows)
    config = FakeConfig(token=TOKEN, page_clamp=100, row_clamp=500)
    results: dict[str, list[dict[str, float]]] = {"rows": [], "tables": []}
    with FakeCoda(ws, config) as fake, tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for kind in ("rows", "tables") if i % 2 == 0 else ("tables", "rows"):
                work = Path(tmp) / f"{kind}{i}"
                work.mkdir()
                results[kind].append(run_once(fake.url, work, table_streams=kind == "tables"))
    return {"rows": rows, "runs": runs, "results": results}


def _per_row(run: dict[str, float], key: str) -> float:
    cpu = run["tap_cpu"] if key == "tap" else run["tap_cpu"] + run["target_cpu"]
    return cpu / run["rows"] * 1e6


def report(data: dict[str, t.Any]) -> str:
    res = data["results"]
    lines = [
        "## Table streams: CPU per row into target-jsonl (issue #15)",
        "",
        f"`python -m benchmarks.tablestreams --rows {data['rows']} --runs {data['runs']}`: "
        "the bench workspace's base tables, the fake in-process without limits; medians "
        "of the runs, side by side (alternating order).",
        "",
        "| stream | rows | tap µs/row | tap + target-jsonl µs/row |",
        "|---|---:|---:|---:|",
    ]
    medians: dict[str, dict[str, float]] = {}
    for kind, label in (
        ("rows", "generic `rows` (simpleWithArrays)"),
        ("tables", "table streams (rich, typed)"),
    ):
        tap = statistics.median(_per_row(r, "tap") for r in res[kind])
        both = statistics.median(_per_row(r, "both") for r in res[kind])
        medians[kind] = {"tap": tap, "both": both}
        lines.append(f"| {label} | {int(res[kind][0]['rows']):,} | {tap:.1f} | {both:.1f} |")
    tap_ratio = medians["tables"]["tap"] / medians["rows"]["tap"]
    both_ratio = medians["tables"]["both"] / medians["rows"]["both"]
    verdict = "met" if both_ratio <= TARGET_RATIO else "not met"
    lines += [
        "",
        f"Ratio table streams / rows: tap {tap_ratio:.2f}, tap + target {both_ratio:.2f} "
        f"(target ≤ {TARGET_RATIO}: {verdict}).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--results", type=Path, help="also write the section to this file")
    args = parser.parse_args(argv)
    text = report(measure(args.rows, args.runs))
    print(text)
    if args.results:
        args.results.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
