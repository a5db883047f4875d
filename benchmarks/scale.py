"""The scale scenario: how the cost of a backup grows with the workspace (issue #17).

Three workspaces, each about five to ten times the last, go through `coda-backup` one
after the other in one run: a full backup and a no-change incremental against the fake
with Coda's rates scaled up ten times (20 ms latency, 0.5 s exports, so that 10,000 pages
finish in minutes) and the tap's pacing scaled to match; then the same no-change
incremental with the fake back at Coda's real limits, latency and export time, where a
small workspace's bound is not dwarfed by the programs' start-up. What matters is the
growth: wall / bound and CPU per page should stay flat from the smallest size to the
largest; a cost that grows with the square of the workspace shows as a ratio that climbs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import bounds, scenarios
from fakecoda import FakeCoda, RateLimits, build_bench_workspace
from fakecoda.ratelimit import SlidingWindowLimiter

#: The fake's rates and the tap's pacing, times Coda's (same 6 s windows, ten times the
#: requests in each: the tap's pacing is per 6 s, so both sides keep one window length).
RATE_FACTOR = 10
SCALED_LATENCY = 0.02
SCALED_EXPORT_SECONDS = 0.5
#: The first status poll comes this long after the POST (1.0 s against 1.5 s exports by
#: default); scaled with the export time.
SCALED_POLL_INTERVAL = 0.35
#: Exports in flight: as the default (10) is one window's write budget, ten times the rate
#: needs ten times the exports, so a window's starts all go when it opens (with 32, each
#: window's 100 starts spread over 3.3 s; benchmarks/RESULTS-pacing.md).
SCALED_CONCURRENCY = 100
#: Growth targets: CPU per page at the largest size within this factor of the smallest.
LINEAR_FACTOR = 1.3


@dataclass(frozen=True)
class ScaleSize:
    docs: int
    pages: int
    tables: int
    rows: int  # in base tables, about 20 per table: this measures objects, not rows

    @property
    def label(self) -> str:
        return f"{self.pages:,} pages"


FULL_SIZES = (
    ScaleSize(docs=10, pages=1_000, tables=200, rows=4_000),
    ScaleSize(docs=20, pages=5_000, tables=500, rows=10_000),
    ScaleSize(docs=40, pages=10_000, tables=1_000, rows=20_000),
)
QUICK_SIZES = (
    ScaleSize(docs=2, pages=40, tables=10, rows=200),
    ScaleSize(docs=4, pages=200, tables=40, rows=800),
)


def scaled_limits() -> RateLimits:
    coda = RateLimits.coda()
    return RateLimits(
        *(
            None if lim is None else replace(lim, count=lim.count * RATE_FACTOR)
            for lim in (coda.read, coda.write, coda.list_docs, coda.doc_content_writes)
        )
    )


def scaled_env() -> dict[str, str]:
    """The tap paced at the scaled rates; everything else at its defaults."""
    settings = {
        "rate_limit_reads": 100 * RATE_FACTOR,
        "rate_limit_writes": 10 * RATE_FACTOR,
        "rate_limit_list_docs": 4 * RATE_FACTOR,
        "export_poll_interval": SCALED_POLL_INTERVAL,
        "max_concurrency": SCALED_CONCURRENCY,
    }
    return scenarios.child_env(CODA_BACKUP_TAP_SETTINGS=json.dumps(settings))


def to_coda_limits(fake: FakeCoda) -> None:
    """Switch a running fake to Coda's real limits, latency and export time."""
    fake.config.rate_limits = RateLimits.coda()
    fake.config.latency = 0.08
    fake.config.export_seconds = 1.5
    fake.limiter = SlidingWindowLimiter(fake.config.rate_limits)


def per_object(run: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """CPU of each process (the relay's is the tree's less tap and target) per page and
    per table, in ms."""
    cpu = dict(run["cpu_by_process"])
    cpu["coda-backup"] = max(0.0, run["cpu_tree"] - sum(cpu.values()))
    return {
        "cpu": cpu,
        "ms_per_page": {n: c / facts["pages"] * 1e3 for n, c in cpu.items()},
        "ms_per_table": {n: c / facts["tables"] * 1e3 for n, c in cpu.items()},
    }


def one_size(size: ScaleSize, workdir: Path, timeout: float, say: Any) -> dict[str, Any]:
    ws = build_bench_workspace(docs=size.docs, pages=size.pages, tables=size.tables,
                               rows=size.rows, seed=2)  # fmt: skip
    config = scenarios.coda_config(
        scaled_limits(), latency=SCALED_LATENCY, export_seconds=SCALED_EXPORT_SECONDS
    )
    fake = scenarios.start_fake(ws, config)
    facts = scenarios.workspace_facts(ws)
    where = workdir / f"scale-{size.pages}"
    output = where / "backup"
    runs: dict[str, Any] = {}
    try:
        plans = (
            ("full", bounds.Plan(full=True), False, scaled_env()),
            ("unchanged", bounds.Plan(full=False), True, scaled_env()),
            ("unchanged_coda", bounds.Plan(full=False), True, scenarios.child_env()),
        )
        for name, plan, incremental, env in plans:
            if name == "unchanged_coda":
                to_coda_limits(fake)
            run = scenarios.run_coda_backup(
                fake, plan, output, where / "logs" / name, incremental=incremental,
                label=f"{size.label}: {name}", timeout=timeout, env=env,
            )  # fmt: skip
            run |= per_object(run, facts)
            runs[name] = run
            say(f"  {run['label']}: {run['wall']:.1f} s, ratio {run['ratio']:.2f}, "
                f"CPU tap {run['cpu']['tap']:.1f} s, target {run['cpu']['target']:.1f} s, "
                f"ok={run['ok']}")  # fmt: skip
    finally:
        fake.stop()
    return {"size": vars(size), "workspace": facts, "runs": runs}


def scale(
    quick: bool, workdir: Path, timeout: float, say: Any, only: list[int] | None = None
) -> dict[str, Any]:
    sizes = [s for s in (QUICK_SIZES if quick else FULL_SIZES) if not only or s.pages in only]
    points = []
    for size in sizes:
        points.append(one_size(size, workdir, timeout, say))
        # each size as it completes: a run stopped later still has the earlier sizes
        scenarios.write_json(workdir / f"scale-{size.pages}.json", points[-1])
    return {
        "rate_factor": RATE_FACTOR,
        "latency": SCALED_LATENCY,
        "export_seconds": SCALED_EXPORT_SECONDS,
        "points": points,
        "growth": growth(points),
        "ok": all(r["ok"] for p in points for r in p["runs"].values()),
    }


def growth(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Largest size against the smallest, per run and process: CPU per page (1.0: linear)."""
    first, last = points[0], points[-1]
    out: dict[str, Any] = {}
    for name in first["runs"]:
        a, b = first["runs"][name]["ms_per_page"], last["runs"][name]["ms_per_page"]
        out[name] = {proc: (b[proc] / a[proc] if a[proc] else None) for proc in a}
    return out
