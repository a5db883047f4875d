"""RESULTS.md from the results of one `python -m benchmarks.run`: tables, ratios, hints."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchmarks.bounds import CLASS_OF, KINDS, LIMITED_CLASSES

WALL_TARGET = 1.15  # times the lower bound
CPU_TARGET_US = 100.0  # µs per 10-column row, tap + target
CPU_NAIVE_SHARE = 0.2  # at most 1/5 of the naive pipeline
RSS_TARGET_MB = 150.0
X = "\u00d7"  # multiplication sign
NONE = "\u2013"  # en dash: no value


def _s(value: float | None, digits: int = 1) -> str:
    return (
        NONE
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}f}")
    )


def _x(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}{X}"


def _met(ok: bool | None) -> str:
    return NONE if ok is None else ("met" if ok else "**not met**")


def _pair(check: dict[str, Any], what: str, *, sep: bool = False) -> str:
    done, wanted = check.get(f"{what}_written", 0), check.get(f"{what}_expected", 0)
    return f"{done:,} / {wanted:,}" if sep else f"{done} / {wanted}"


def _count(seen: dict[str, Any], kind: str) -> int:
    return int(seen["kinds"].get(kind, {}).get("count", 0))


def _429s(run: dict[str, Any]) -> int:
    return sum(run["seen"]["status_429"].values())


def _api_phase(run: dict[str, Any]) -> float | None:
    seen = run["seen"]
    if seen["first_request"] is None:
        return None
    return seen["last_request"] - seen["first_request"]


# -- targets ------------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    sc = results["scenarios"]
    rows: list[tuple[str, str, bool | None]] = []
    full = sc.get("full")
    if full:
        rows.append(
            (
                f"full backup wall ≤ {WALL_TARGET} {X} lower bound",
                f"{_s(full['wall'])} s / {_s(full['bound'])} s = {_x(full['ratio'])}",
                full["ok"] and full["ratio"] is not None and full["ratio"] <= WALL_TARGET,
            )
        )
    incr = sc.get("incremental")
    if incr:
        unchanged = incr[0]
        heavy = sum(
            _count(unchanged["seen"], k)
            for k in ("list_rows", "export_post", "export_poll", "blob")
        )
        rows.append(
            (
                "no-change incremental makes only listing requests",
                f"{heavy} rows/export requests"
                + (f" ({_kinds_line(unchanged['seen'])})" if heavy else ""),
                unchanged["ok"] and heavy == 0,
            )
        )
        rows.append(
            (
                f"no-change incremental wall ≤ {WALL_TARGET} {X} its bound",
                f"{_s(unchanged['wall'], 2)} s / {_s(unchanged['bound'], 2)} s = "
                f"{_x(unchanged['ratio'])}",
                unchanged["ratio"] is not None and unchanged["ratio"] <= WALL_TARGET,
            )
        )
    default_runs = [r for r in [full, *(incr or [])] if r]
    if default_runs:
        n429 = sum(_429s(r) for r in default_runs)
        rows.append(
            (
                "zero 429s with default settings (full + incremental runs)",
                f"{n429} {X} 429",
                n429 == 0,
            )
        )
    half = sc.get("half_limits")
    if half:
        c = half["check"]
        rows.append(
            (
                "fake at half Coda's limits: completes, loses nothing",
                f"exit {half['returncode']}, rows {c.get('rows_written')}/"
                f"{c.get('rows_expected')}, pages {c.get('pages_written')}/"
                f"{c.get('pages_expected')}, {_429s(half)} {X} 429",
                bool(half["ok"]),
            )
        )
    cpu = sc.get("cpu")
    if cpu:
        ours, naive = cpu["slope_us"]["ours"], cpu["slope_us"]["naive"]
        rows.append(
            (
                f"CPU per 10-column row ≤ {CPU_TARGET_US:g} µs (tap + target)",
                f"{_s(ours)} µs",
                cpu["ok"] and ours <= CPU_TARGET_US,
            )
        )
        rows.append(
            (
                "CPU per row ≤ 1/5 of the naive singer-sdk pipeline",
                f"{_s(ours)} / {_s(naive)} µs = {_x(ours / naive if naive else None)}",
                cpu["ok"] and naive > 0 and ours <= CPU_NAIVE_SHARE * naive,
            )
        )
    mem = sc.get("memory")
    if mem:
        tap, target = mem["rss_mb"]["tap"], mem["rss_mb"]["target"]
        rows.append(
            (
                f"peak RSS ≤ {RSS_TARGET_MB:g} MB per process, {mem['rows']:,}-row table",
                f"tap {_s(tap, 0)} MB, target {_s(target, 0)} MB",
                mem["ok"] and max(tap, target) <= RSS_TARGET_MB,
            )
        )
    return rows


def _kinds_line(seen: dict[str, Any]) -> str:
    return ", ".join(f"{k} {seen['kinds'][k]['count']}" for k in KINDS if k in seen["kinds"])


# -- sections -------------------------------------------------------------------------------


def machine_section(m: dict[str, Any]) -> list[str]:
    return [
        "| machine | |",
        "|---|---|",
        f"| date (UTC) | {m['date']} |",
        f"| CPU | {m['cpu_model']} {X} {m['nproc']} (`nproc`) |",
        f"| memory | {m['mem_gb']} GB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| singer-sdk | {m['singer_sdk']} |",
        f"| code | `{m['git']}` |",
        f"| mode | {m['mode']}; whole run {_s(m['duration'], 0)} s |",
        "",
    ]


def backup_table(runs: list[dict[str, Any]]) -> list[str]:
    out = [
        "| | " + " | ".join(r["label"] for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]

    def row(name: str, cells: list[str]) -> None:
        out.append(f"| {name} | " + " | ".join(cells) + " |")

    row("completed, nothing lost", [_met(r["ok"]) for r in runs])
    row("wall time (s)", [_s(r["wall"]) for r in runs])
    row("lower bound (s)", [f"{_s(r['bound'], 2)} ({r['bound_binding']})" for r in runs])
    row("**wall / bound**", [f"**{_x(r['ratio'])}**" for r in runs])
    row(
        "API phase / bound (first → last request)",
        [_x(_api_phase(r) / r["bound"]) if _api_phase(r) and r["bound"] else NONE for r in runs],
    )
    row("start-up: spawn → first request (s)", [_s(r["startup"], 2) for r in runs])
    row("finish: last request → exit (s)", [_s(r["finish"], 2) for r in runs])
    for cls in (*LIMITED_CLASSES, "blob"):
        row(
            f"requests: {cls} (minimal)",
            [
                f"{r['seen']['classes'].get(cls, 0)} ({r['minimal_classes'].get(cls, 0)})"
                for r in runs
            ],
        )
    row(
        "requests / minimal (limited classes)",
        [
            _x(
                sum(r["seen"]["classes"].get(c, 0) for c in LIMITED_CLASSES)
                / max(1, sum(r["minimal_classes"].get(c, 0) for c in LIMITED_CLASSES))
            )
            for r in runs
        ],
    )
    row("429s received", [str(_429s(r)) for r in runs])
    row(
        "busiest window: read / write / list_docs (limit)",
        [
            " / ".join(
                f"{r['seen']['max_in_window'].get(c, 0)}"
                + (f" ({int(r['limits'][c][0])})" if c in r["limits"] else "")
                for c in LIMITED_CLASSES
            )
            for r in runs
        ],
    )
    row(
        "rows in the backup / in the fake",
        [_pair(r["check"], "rows", sep=True) for r in runs],
    )
    row(
        "pages in the backup / canvas pages",
        [_pair(r["check"], "pages") for r in runs],
    )
    row("CPU, coda-backup + tap + target (s)", [_s(r["cpu_tree"], 2) for r in runs])
    row("  … per row in the backup (µs)", [_s(r["cpu_tree_per_row_us"], 0) for r in runs])
    row("peak RSS tap (MB)", [_s(r["rss_mb"].get("tap"), 0) for r in runs])
    row("peak RSS target (MB)", [_s(r["rss_mb"].get("target"), 0) for r in runs])
    out.append("")
    return out


def kinds_table(runs: list[dict[str, Any]]) -> list[str]:
    out = [
        "Requests per kind, sent (minimal); 429s and 404s among them:",
        "",
        "| kind | class | " + " | ".join(r["label"] for r in runs) + " |",
        "|---|---|" + "---:|" * len(runs),
    ]
    for kind in KINDS:
        cells = []
        for r in runs:
            ks = r["seen"]["kinds"].get(kind, {})
            cell = f"{ks.get('count', 0)} ({r['minimal_kinds'].get(kind, 0)})"
            extra = []
            if ks.get("status_429"):
                extra.append(f"{ks['status_429']}{X}429")
            if ks.get("status_404"):
                extra.append(f"{ks['status_404']}{X}404")
            if extra:
                cell += " " + ", ".join(extra)
            cells.append(cell)
        if any(not c.startswith("0 (0)") for c in cells):
            out.append(f"| {kind} | {CLASS_OF[kind]} | " + " | ".join(cells) + " |")
    out.append("")
    return out


def bound_terms_table(runs: list[dict[str, Any]]) -> list[str]:
    out = [
        "Lower-bound terms (s; the bound is the largest, see README.md):",
        "",
        "| term | " + " | ".join(r["label"] for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for term in (*LIMITED_CLASSES, "chain"):
        out.append(
            f"| {term} | " + " | ".join(_s(r["bound_terms"].get(term), 2) for r in runs) + " |"
        )
    out.append("")
    return out


def where_time_goes(run: dict[str, Any]) -> list[str]:
    seen = run["seen"]
    out = [f"**{run['label']}** — wall {_s(run['wall'])} s:", ""]
    out.append(
        f"- start-up {_s(run['startup'], 2)} s before the first request (interpreters, "
        f"imports, config); {_s(run['finish'], 2)} s from the last request to exit."
    )
    spans = sorted(
        ((k, v) for k, v in seen["kinds"].items() if v["first"] is not None),
        key=lambda kv: kv[1]["first"],
    )
    out.append(
        "- phases (first → last arrival, s after spawn): "
        + "; ".join(f"{k} {v['first']:.1f}→{v['last']:.1f} ({v['count']})" for k, v in spans)
    )
    if seen["exports"]:
        avg = seen["export_seconds_total"] / seen["exports"]
        out.append(
            f"- exports: {seen['exports']}, {avg:.2f} s each from POST to download "
            f"(1.5 s is the fake's export time), open during {seen['export_seconds_union']:.1f} s "
            f"of the run, at most {seen['max_concurrent_exports']} at once."
        )
    for cls in LIMITED_CLASSES:
        n = seen["classes_ok"].get(cls, 0)
        if cls in run["limits"] and n:
            limit, window = run["limits"][cls]
            floor = (math.ceil(n / limit) - 1) * window
            out.append(
                f"- {cls}: {n} requests answered; the limit alone needs ≥ {floor:.1f} s for "
                f"them; the busiest {window:g} s window held "
                f"{seen['max_in_window'].get(cls, 0)} of {int(limit)} allowed."
            )
    out += _binding_lag(run)
    answered = sum(seen["classes_ok"].values())
    phase = _api_phase(run)
    if phase and run.get("latency"):
        out.append(
            f"- on average {answered * run['latency'] / phase:.1f} requests were in flight "
            f"({answered} answered {X} {run['latency'] * 1000:.0f} ms latency ÷ "
            f"{phase:.1f} s of API phase; 1.0 means one at a time)."
        )
    gaps = sorted(seen["gaps"], key=lambda g: g[1] - g[0], reverse=True)
    if gaps:
        total = sum(b - a for a, b, _, _ in gaps)
        top = "; ".join(f"{b - a:.2f} s at {a:.1f} s ({x} → {y})" for a, b, x, y in gaps[:3])
        out.append(
            f"- no request arrived for {total:.1f} s in total in pauses > 0.25 s; longest: {top}."
        )
    out.append("")
    return out


def _binding_lag(run: dict[str, Any]) -> list[str]:
    """How late the binding class's last request came, against what its limit allows."""
    cls, seen = run["bound_binding"], run["seen"]
    if cls not in ("write", "read") or cls not in run["limits"]:
        return []
    kinds = [v for k, v in seen["kinds"].items() if CLASS_OF.get(k) == cls and v["last"]]
    if not kinds or seen["first_request"] is None:
        return []
    limit, window = run["limits"][cls]
    lat, n = run.get("latency", 0.0), run["minimal_classes"].get(cls, 0)
    last = max(v["last"] for v in kinds)
    ideal = (math.ceil(n / limit) - 1) * window + (2 * lat if cls == "write" else 0.0)
    tail_min = run.get("export_seconds", 0.0) + 2 * lat if cls == "write" else lat
    return [
        f"- binding class **{cls}**: its last request came {last - seen['first_request']:.1f} s "
        f"after the first request, where the limit allows {ideal:.1f} s "
        f"(lag {last - seen['first_request'] - ideal:+.1f} s); after it the run took "
        f"{run['wall'] - last:.1f} s more, of which {tail_min:.2f} s is unavoidable "
        + ("(export, completing poll, download)." if cls == "write" else "(one response).")
    ]


def cpu_section(cpu: dict[str, Any]) -> list[str]:
    small, large = cpu["rows"]
    names = {
        "ours": "tap-coda \\| target-files",
        "naive": "naive singer-sdk tap \\| BatchSink CSV target",
        "bare": "bare script (requests + json + csv)",
    }
    ours = cpu["slope_us"]["ours"]
    out = [
        f"One 10-column table, {small:,} and {large:,} rows; fake without limits or latency,"
        " rows pages pre-rendered. CPU = user + sys of the pipeline's processes "
        "(`os.wait4`), never the fake's. **µs per row** is the slope between the two sizes "
        "(start-up cancels out); *all-in* divides the whole CPU of the larger run by its rows.",
        "",
        "| pipeline | µs per row | ours ÷ this | all-in µs/row | fixed (s) | wall, "
        f"{large:,} rows (s) | CPU by process, {large:,} rows (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, label in names.items():
        pt = (
            cpu["points"][name][large]
            if large in cpu["points"][name]
            else cpu["points"][name][str(large)]
        )
        slope = cpu["slope_us"][name]
        by_proc = ", ".join(f"{k} {v:.2f}" for k, v in pt["cpu_by_process"].items())
        rss = ", ".join(f"{k} {v:.0f}" for k, v in pt["rss_mb"].items())
        out.append(
            f"| {label} | {_s(slope)} | {_x(ours / slope) if slope else NONE} | "
            f"{_s(cpu['total_us'][name])} | {_s(cpu['fixed_s'][name], 2)} | {_s(pt['wall'])} | "
            f"{by_proc} | {rss} |"
        )
    out += [
        "",
        "tap-coda runs with its default settings (pacing at 100 reads / 6 s included) and "
        "its own catalog with `page_contents` deselected, so that page exports do not mix "
        "into the per-row cost; the baselines read the same rows endpoint with the same "
        "`limit=500&valueFormat=simpleWithArrays`.",
        "",
    ]
    runs = {
        name: {size: pt.get("runs") for size, pt in by_size.items()}
        for name, by_size in cpu["points"].items()
    }
    if any(len(r or ()) > 1 for by_size in runs.values() for r in by_size.values()):
        out += [
            "Each pipeline ran several times at each size, interleaved with the others; the "
            "run with the least CPU is the one above (on a shared machine a neighbour only "
            "ever adds CPU). CPU of every run (s):",
            "",
        ]
        for name, by_size in runs.items():
            each = "; ".join(
                f"{int(size):,} rows: " + ", ".join(f"{c:.2f}" for c in (r or ()))
                for size, r in by_size.items()
            )
            out.append(f"- {name}: {each}")
        out.append("")
    return out


def memory_section(mem: dict[str, Any]) -> list[str]:
    return [
        f"One 10-column table of {mem['rows']:,} rows through `tap-coda | target-files` "
        "(default settings, page export deselected as above), fake without limits or latency. "
        "Peak RSS is each process's own `ru_maxrss`, reported by `benchmarks/launch.py`.",
        "",
        "| process | peak RSS (MB) | CPU (s) |",
        "|---|---:|---:|",
        f"| tap-coda | {_s(mem['rss_mb']['tap'], 0)} | {_s(mem['cpu'].get('ours-tap'), 1)} |",
        f"| target-files | {_s(mem['rss_mb']['target'], 0)} | "
        f"{_s(mem['cpu'].get('ours-target'), 1)} |",
        "",
        f"Completed and nothing lost: {_met(mem['ok'])} "
        f"(rows {_pair(mem['check'], 'rows', sep=True)}); "
        f"wall {_s(mem['wall'])} s; {mem['requests'].get('list_rows', 0)} rows requests.",
        "",
    ]


HOW_TO_READ = """\
## How to read this

- **Ratios, not seconds.** Absolute times depend on this machine; the ratios compare a run
  with the best any client could do against the same fake (*wall / bound*), with the
  requests a perfect client needs (*requests / minimal*) and with the same job built the
  naive way (*CPU ours ÷ naive*).
- **The lower bound** is what Coda's rate limits allow for the *minimal* requests of the
  run, plus the short chain no limit can shorten (an export takes 1.5 s; each request
  80 ms). It assumes a client that sends requests concurrently up to the limits and knows
  exactly when an export finishes. The formula and the minimal counts per kind are in
  `benchmarks/README.md`; the terms per run are in the tables below.
- A ratio near 1 means the rate limits, not the code, set the pace. *API phase / bound*
  leaves out process start-up and finishing, so it shows how close the requests
  themselves run to the limits; the gap to *wall / bound* is start-up and finish.
- **(minimal)** in the request tables is what a perfect client must send; any excess
  (retries, 404 polls beyond the first, repeated listings) is visible there.
- **CPU per row** is the slope between two table sizes, so start-up costs cancel out.
  The fake runs in a thread of the benchmark process and is never counted.
- Peak RSS of tap and target under coda-backup is polled from `/proc/<pid>/status`
  (`VmHWM`) every 20 ms; in the CPU and memory scenarios it is exact (each process is
  started through `benchmarks/launch.py`, which reports its own `wait4` numbers).
- **Pauses** (no request arriving for > 0.25 s) are not all waste: when a class is at
  its limit the client must wait. The *binding class* line says how far its last request
  trailed what the limit allows; the *in flight* line how concurrent the requests were.
"""


def render(results: dict[str, Any]) -> str:
    sc = results["scenarios"]
    m = results["machine"]
    out = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks.run"
        + (" --quick" if m["mode"] == "quick" else "")
        + "` (`make bench`). The fake Coda API runs with Coda's limits (reads 100/6 s, "
        "writes 10/6 s, list docs 4/6 s), 80 ms latency and 1.5 s exports.",
        "",
    ]
    out += machine_section(m)
    out += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    rows = targets(results)
    if sc.get("scale"):
        from benchmarks import report_scale  # it imports this module's helpers

        rows += report_scale.targets(sc["scale"])
    out += [f"| {name} | {value} | {_met(ok)} |" for name, value, ok in rows]
    out += ["", HOW_TO_READ]
    runs = [r for r in [sc.get("full"), *(sc.get("incremental") or []), sc.get("half_limits")]
            if r]  # fmt: skip
    if runs:
        ws = results["workspace"]
        out += [
            "## Backups through coda-backup",
            "",
            f"Workspace: {ws['docs']} docs, {ws['pages']} pages, {ws['tables']} tables and "
            f"views, {ws['base_rows']:,} rows in base tables ({ws['all_rows']:,} with the "
            "views' rows, which the tap reads too). Default settings throughout.",
            "",
        ]
        incr = sc.get("incremental") or []
        if len(incr) > 1 and incr[1].get("edits"):
            out += ["Edits before the last incremental run: " + "; ".join(incr[1]["edits"]), ""]
        out += backup_table(runs)
        out += kinds_table(runs)
        out += bound_terms_table(runs)
    if sc.get("cpu"):
        out += ["## CPU per row", "", *cpu_section(sc["cpu"])]
    if sc.get("memory"):
        out += ["## Memory", "", *memory_section(sc["memory"])]
    if sc.get("scale"):
        out += report_scale.section(sc["scale"])
    if runs:
        out += ["## Where the time goes", ""]
        for run in runs:
            out += where_time_goes(run)
    out += companions()
    return "\n".join(out).rstrip() + "\n"


def companions() -> list[str]:
    """Links to the benchmarks that write a results file of their own (RESULTS-*.md):
    found on disk, so a regenerated RESULTS.md never loses them."""
    found = sorted(Path(__file__).resolve().parent.glob("RESULTS-*.md"))
    if not found:
        return []
    return ["", "## Other benchmarks", "", *(f"- [{p.name}]({p.name})" for p in found)]
