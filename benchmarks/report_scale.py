"""The scale section of RESULTS.md: the three workspace sizes side by side, and growth."""

from __future__ import annotations

from typing import Any

from benchmarks.report import RSS_TARGET_MB, WALL_TARGET, X, _s, _x
from benchmarks.scale import LINEAR_FACTOR

RUNS = (
    ("full", "full backup, scaled limits"),
    ("unchanged", "no-change incremental, scaled limits"),
    ("unchanged_coda", "no-change incremental, Coda's limits"),
)
PROCS = ("tap", "target", "coda-backup")


def _requests_ratio(run: dict[str, Any]) -> float | None:
    sent = sum(run["seen"]["classes"].get(c, 0) for c in run["minimal_classes"] if c != "blob")
    minimal = sum(v for c, v in run["minimal_classes"].items() if c != "blob")
    return sent / minimal if minimal else None


def targets(scale: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    points = scale["points"]
    rows: list[tuple[str, str, bool | None]] = []
    fulls = [(p["workspace"]["pages"], p["runs"]["full"]) for p in points]
    rows.append((
        f"scale: full backup wall ≤ {WALL_TARGET} {X} bound at every size (scaled limits)",
        ", ".join(f"{n:,} pages {_x(r['ratio'])}" for n, r in fulls),
        all(r["ok"] and r["ratio"] <= WALL_TARGET for _, r in fulls),
    ))  # fmt: skip
    big = [(p["workspace"]["pages"], p["runs"]["unchanged_coda"]) for p in points[1:]]
    rows.append((
        f"scale: no-change incremental ≤ {WALL_TARGET} {X} bound (Coda's limits, "
        "all but the smallest size)",
        ", ".join(f"{n:,} pages {_x(r['ratio'])}" for n, r in big),
        all(r["ok"] and r["ratio"] <= WALL_TARGET for _, r in big),
    ))  # fmt: skip
    g = scale["growth"]["full"]
    rows.append((
        f"scale: CPU per page, largest ÷ smallest size ≤ {LINEAR_FACTOR} (tap, target; full)",
        f"tap {_x(g['tap'])}, target {_x(g['target'])}",
        all(g[p] is not None and g[p] <= LINEAR_FACTOR for p in ("tap", "target")),
    ))  # fmt: skip
    last = points[-1]
    rss = max(last["runs"]["full"]["rss_mb"].values())
    rows.append((
        f"scale: peak RSS ≤ {RSS_TARGET_MB:g} MB per process at "
        f"{last['workspace']['pages']:,} pages",
        ", ".join(f"{k} {_s(v, 0)} MB" for k, v in last["runs"]["full"]["rss_mb"].items()),
        rss <= RSS_TARGET_MB,
    ))  # fmt: skip
    return rows


def section(scale: dict[str, Any]) -> list[str]:
    points = scale["points"]
    m = scale.get("machine") or {}
    out = [
        "## Scale",
        "",
        f"The fake with Coda's rates times {scale['rate_factor']} (the tap's pacing too), "
        f"{scale['latency'] * 1e3:g} ms latency and {scale['export_seconds']:g} s exports; the "
        "last column of each size is the no-change incremental again with the fake at Coda's "
        "real limits, 80 ms and 1.5 s. Every size in one run, one after the other"
        + (f" ({m['date']} UTC, code `{m['git']}`)." if m else "."),
        "",
    ]
    head = ["| | " + " | ".join(
        f"{p['workspace']['pages']:,} pages: {label.split(',')[0]}"
        + (" (Coda)" if name == "unchanged_coda" else "")
        for p in points for name, label in RUNS
    ) + " |"]  # fmt: skip
    out += head
    out += ["|---|" + "---:|" * (len(points) * len(RUNS))]
    cells: dict[str, list[str]] = {}

    def add(row: str, value: str) -> None:
        cells.setdefault(row, []).append(value)

    for p in points:
        ws = p["workspace"]
        for name, _ in RUNS:
            r = p["runs"][name]
            add("workspace: docs / pages / tables", f"{ws['docs']} / {ws['pages']:,} / "
                f"{ws['tables']:,}")  # fmt: skip
            add("completed, nothing lost", "met" if r["ok"] else "**not met**")
            add("wall (s)", _s(r["wall"]))
            add("bound (s)", f"{_s(r['bound'], 2)} ({r['bound_binding']})")
            add("**wall / bound**", f"**{_x(r['ratio'])}**")
            add("requests / minimal (limited classes)", _x(_requests_ratio(r)))
            add("429s", str(sum(r["seen"]["status_429"].values())))
            for proc in PROCS:
                add(f"CPU {proc} (s)", _s(r["cpu"][proc], 2))
                add(f"CPU {proc} per page (ms)", _s(r["ms_per_page"][proc], 2))
                add(f"CPU {proc} per table (ms)", _s(r["ms_per_table"][proc], 1))
            for proc in ("tap", "target"):
                add(f"peak RSS {proc} (MB)", _s(r["rss_mb"].get(proc), 0))
    out += [f"| {row} | " + " | ".join(vals) + " |" for row, vals in cells.items()]
    first, last = points[0]["workspace"]["pages"], points[-1]["workspace"]["pages"]
    out += [
        "",
        f"Growth: CPU per page at {last:,} pages ÷ at {first:,} pages (1.00{X}: linear; "
        f"≤ {LINEAR_FACTOR}{X} counts as linear here):",
        "",
        "| run | " + " | ".join(PROCS) + " |",
        "|---|" + "---:|" * len(PROCS),
    ]
    for name, label in RUNS:
        g = scale["growth"][name]
        out.append(f"| {label} | " + " | ".join(
            f"{_x(g[p])}" + ("" if g[p] is None or g[p] <= LINEAR_FACTOR else " (superlinear)")
            for p in PROCS
        ) + " |")  # fmt: skip
    return [*out, ""]
