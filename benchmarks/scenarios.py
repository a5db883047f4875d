"""The scenarios of `make bench`. Each returns a plain dict that report.py renders.

The fake Coda API runs in a thread of this process; tap-coda, target-files and coda-backup
run as child processes, so their CPU and memory are measured apart from the fake's
(procwatch.py). Rows pages are rendered before a run starts (`FakeCoda.prewarm`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import analysis, bounds, procwatch
from fakecoda import FakeCoda, FakeConfig, RateLimits, Workspace, build_bench_workspace

TOKEN = "bench-token-0000"
REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VALUE_FORMAT = "simpleWithArrays"  # the tap's default
ROW_CLAMP = 500  # Coda's historical rows page size
LIST_CLAMP = 100


@dataclass(frozen=True)
class Sizes:
    """Workspace sizes: `full` (make bench) and `quick` (the CI smoke test)."""

    docs: int
    pages: int
    tables: int
    rows: int
    cpu_rows: tuple[int, int]  # two sizes: CPU per row is the slope between them
    cpu_repeats: int  # runs per pipeline and size; the least CPU is kept
    memory_rows: int


FULL = Sizes(docs=4, pages=100, tables=30, rows=100_000, cpu_rows=(20_000, 200_000),
             cpu_repeats=3, memory_rows=1_000_000)  # fmt: skip
QUICK = Sizes(docs=2, pages=8, tables=6, rows=5_000, cpu_rows=(2_000, 10_000),
              cpu_repeats=1, memory_rows=100_000)  # fmt: skip


def coda_config(limits: RateLimits | None = None, **overrides: Any) -> FakeConfig:
    """The fake as Coda: its limits, 80 ms latency, 1.5 s exports, Coda's page sizes."""
    settings: dict[str, Any] = {
        "token": TOKEN,
        "page_clamp": LIST_CLAMP,
        "row_clamp": ROW_CLAMP,
        "rate_limits": limits if limits is not None else RateLimits.coda(),
        "latency": 0.08,
        "export_seconds": 1.5,
    }
    settings.update(overrides)
    return FakeConfig(**settings)


def cpu_config() -> FakeConfig:
    """No limits, no latency: the pipeline, not the network, sets the pace."""
    return FakeConfig(token=TOKEN, page_clamp=LIST_CLAMP, row_clamp=ROW_CLAMP)


def start_fake(ws: Workspace, config: FakeConfig) -> FakeCoda:
    fake = FakeCoda(ws, config).start()
    fake.prewarm((VALUE_FORMAT,), ROW_CLAMP)
    fake.reset_log()
    return fake


def child_env(**extra: str) -> dict[str, str]:
    """A clean environment: no real token or tap/target settings leak in from the caller."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CODA_", "TAP_CODA_", "TARGET_FILES_", "MELTANO_")) and k != "LOGLEVEL"
    }
    env.update(
        CODA_API_TOKEN=TOKEN,
        PYTHONUTF8="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def script(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- checking what was written ------------------------------------------------------------


def _id_of(stem: str, ids: set[str]) -> str:
    """The object id a file is named after (`{name}__{id}`); ids may hold `__` themselves."""
    found = [i for i in ids if stem.endswith(f"__{i}")]
    return max(found, key=len) if found else stem


def expected_objects(ws: Workspace) -> tuple[dict[str, set[str]], set[str]]:
    """Row ids per table (views included) and canvas page ids a default run must back up."""
    rows: dict[str, set[str]] = {}
    pages: set[str] = set()
    for doc in bounds.backed_up_docs(ws):
        if doc.over_api_size_limit:
            continue
        for table in doc.tables:
            rows[table.id] = {r.id for r in ws.rows_of(doc, table)}
        pages |= {p.id for p in doc.pages if p.content_type == "canvas"}
    return rows, pages


def check_backup(output: Path, ws: Workspace, *, pages: bool = True) -> dict[str, Any]:
    """Compare the promoted run folder with the workspace: rows by id, tables, pages
    (`pages=False`: page exports were deselected)."""
    expected_rows, expected_pages = expected_objects(ws)
    if not pages:
        expected_pages = set()
    latest = output / "latest.txt"
    if not latest.is_file():
        return {"ok": False, "error": "no promoted run (latest.txt missing)"}
    run_dir = output / latest.read_text(encoding="utf-8").strip()
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    written: dict[str, set[str]] = {}
    for path in run_dir.rglob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            written[_id_of(path.stem, set(expected_rows))] = {row[0] for row in reader if row}
    page_ids = set(expected_pages)
    exported = {_id_of(p.stem, page_ids) for p in run_dir.rglob("*.md") if "pages" in p.parts}
    return _compare(expected_rows, written, expected_pages, exported) | {
        "status": summary.get("status"),
        "failures": len(summary.get("failures") or []),
        "summary_rows_written": summary.get("rows_written"),
        "run_dir": run_dir.name,
    }


def _compare(
    expected_rows: dict[str, set[str]],
    written: dict[str, set[str]],
    expected_pages: set[str],
    pages: set[str],
) -> dict[str, Any]:
    missing = sum(len(ids - written.get(t, set())) for t, ids in expected_rows.items())
    extra = sum(len(ids - expected_rows.get(t, set())) for t, ids in written.items())
    rows_expected = sum(len(ids) for ids in expected_rows.values())
    rows_written = sum(len(written.get(t, set())) for t in expected_rows)
    result = {
        "rows_expected": rows_expected,
        "rows_written": rows_written,
        "rows_missing": missing,
        "rows_unexpected": extra,
        "tables_expected": len(expected_rows),
        "tables_written": len(set(written) & set(expected_rows)),
        "pages_expected": len(expected_pages),
        "pages_written": len(pages & expected_pages),
    }
    result["ok"] = (
        missing == 0
        and extra == 0
        and result["tables_written"] == result["tables_expected"]
        and result["pages_written"] == result["pages_expected"]
    )
    return result


# -- one measured coda-backup run -------------------------------------------------------------


def run_coda_backup(
    fake: FakeCoda,
    plan: bounds.Plan,
    output: Path,
    logs: Path,
    *,
    incremental: bool,
    label: str,
    timeout: float,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`coda-backup` with default settings (or `env`'s) against `fake`; everything
    report.py needs."""
    bound, minimal = bounds.lower_bound(fake.workspace, fake.config, plan)
    cool_down(fake)
    fake.reset_log()
    argv = [script("coda-backup"), "--output", str(output), "--api-url", fake.url]
    if incremental:
        argv.append("--incremental")
    logs.mkdir(parents=True, exist_ok=True)
    stats = procwatch.run_single(
        "coda-backup",
        argv,
        env=env or child_env(),
        cwd=REPO,
        logs=logs,
        descendants={"tap": "tap-coda", "target": "target-files"},
        timeout=timeout,
    )
    log = list(fake.log)
    seen = analysis.summarise(log, stats.started, fake.config.rate_limits)
    check = check_backup(output, fake.workspace)
    rows_total = check.get("rows_expected", 0)
    cb = stats.procs["coda-backup"]
    minimal_classes = bounds.by_class(minimal)
    return {
        "label": label,
        "ok": stats.ok() and bool(check.get("ok")),
        "returncode": cb.returncode,
        "wall": stats.wall,
        "bound": bound.seconds,
        "bound_terms": bound.terms,
        "bound_binding": bound.binding,
        "ratio": stats.wall / bound.seconds if bound.seconds else None,
        "minimal_kinds": dict(minimal),
        "minimal_classes": dict(minimal_classes),
        "seen": seen.as_dict(),
        "startup": seen.first_request,
        "finish": (stats.wall - seen.last_request) if seen.last_request is not None else None,
        "cpu_tree": cb.cpu,
        "cpu_tree_per_row_us": cb.cpu / rows_total * 1e6 if rows_total else None,
        "rss_mb": {
            name: stats.procs[name].maxrss_kb / 1024
            for name in ("tap", "target")
            if name in stats.procs
        },
        # polled from /proc (grandchildren); the relay's is the tree's less these
        "cpu_by_process": {
            name: stats.procs[name].cpu for name in ("tap", "target") if name in stats.procs
        },
        "check": check,
        "logs": str(logs),
        "limits": _limits_dict(fake.config.rate_limits),
        "latency": fake.config.latency,
        "export_seconds": fake.config.export_seconds,
    }


def cool_down(fake: FakeCoda) -> None:
    """Wait until the previous run's requests have left every rate window.

    Coda's budget is per user, across processes: a run started right after another would
    inherit its spent budget (and 429s). Each measured run starts with a full budget, as
    a scheduled backup hours after the last one does.
    """
    os.sync()  # and with the last run's writes on disk: their writeback is not this run's
    limits = fake.config.rate_limits
    if limits is None or not fake.log:
        return
    windows = [getattr(limits, c).window for c in bounds.LIMITED_CLASSES if getattr(limits, c)]
    last = max(entry.ts for entry in fake.log)
    time.sleep(max(0.0, last + max(windows, default=0.0) - time.monotonic()))


def _limits_dict(limits: RateLimits | None) -> dict[str, list[float]]:
    if limits is None:
        return {}
    return {
        cls: [lim.count, lim.window]
        for cls in bounds.LIMITED_CLASSES
        if (lim := getattr(limits, cls)) is not None
    }


def workspace_facts(ws: Workspace) -> dict[str, Any]:
    """What the report says about the workspace a backup ran on."""
    docs = bounds.backed_up_docs(ws)
    tables = [(d, t) for d in docs for t in d.tables]
    return {
        "docs": len(docs),
        "pages": sum(len(d.pages) for d in docs),
        "tables": len(tables),
        "base_rows": sum(len(t.rows) for _, t in tables if t.table_type == "table"),
        "all_rows": sum(len(ws.rows_of(d, t)) for d, t in tables),
    }


# -- full and incremental ------------------------------------------------------------------


@dataclass
class BackupSession:
    """One fake with the bench workspace, kept across the full and incremental runs."""

    sizes: Sizes
    workdir: Path
    timeout: float
    fake: FakeCoda = field(init=False)
    output: Path = field(init=False)

    def __post_init__(self) -> None:
        s = self.sizes
        ws = build_bench_workspace(docs=s.docs, pages=s.pages, tables=s.tables, rows=s.rows)
        self.fake = start_fake(ws, coda_config())
        self.output = self.workdir / "backup"

    def close(self) -> None:
        self.fake.stop()

    def full(self) -> dict[str, Any]:
        return run_coda_backup(
            self.fake,
            bounds.Plan(full=True),
            self.output,
            self.workdir / "logs" / "full",
            incremental=False,
            label="full backup",
            timeout=self.timeout,
        )

    def incremental(self) -> list[dict[str, Any]]:
        unchanged = run_coda_backup(
            self.fake,
            bounds.Plan(full=False),
            self.output,
            self.workdir / "logs" / "incremental-unchanged",
            incremental=True,
            label="incremental, nothing changed",
            timeout=self.timeout,
        )
        plan, described = apply_edits(self.fake.workspace)
        edits = run_coda_backup(
            self.fake,
            plan,
            self.output,
            self.workdir / "logs" / "incremental-edits",
            incremental=True,
            label="incremental, a few edits",
            timeout=self.timeout,
        )
        edits["edits"] = described
        return [unchanged, edits]


def apply_edits(ws: Workspace) -> tuple[bounds.Plan, list[str]]:
    """A few edits a day brings: rows changed in one table, rows added to another, two
    page texts rewritten. Tables without views are chosen so the minimal count stays
    simple (a changed view would have to be read again in full)."""
    docs = bounds.backed_up_docs(ws)
    with_views = {t.base_table_id for d in docs for t in d.tables if t.base_table_id}
    candidates = [
        (d, t)
        for d in docs
        for t in d.tables
        if t.table_type == "table" and t.id not in with_views and len(t.rows) >= 3
    ]
    if len(candidates) < 2:
        raise RuntimeError("the bench workspace needs two base tables without views")
    (doc_a, table_a), (doc_b, table_b) = candidates[0], candidates[-1]
    for row in table_a.rows[:3]:
        ws.edit_row(doc_a.id, table_a.id, row.id, {"Status": "Done", "Notes": "edited by bench"})
    for i in range(2):
        ws.add_row(doc_b.id, table_b.id, {"Name": f"bench added {i}", "Status": "Backlog"})
    table_pages = {t.parent_page_id for d in docs for t in d.tables}
    plain = [
        (d, p)
        for d in docs
        for p in d.pages
        if p.content_type == "canvas" and p.id not in table_pages
    ][:2]
    for doc, page in plain:
        ws.edit_page(doc.id, page.id, markdown=page.markdown + "\nEdited by the benchmark.\n")
    plan = bounds.Plan(
        full=False,
        changed_rows={table_a.id: 3, table_b.id: 2},
        edited_pages={p.id for _, p in plain},
    )
    described = [
        f"3 rows edited in {table_a.name} ({len(table_a.rows)} rows)",
        f"2 rows added to {table_b.name}",
        f"{len(plain)} page texts edited",
    ]
    return plan, described


def half_limits(sizes: Sizes, workdir: Path, timeout: float) -> dict[str, Any]:
    """The same full backup with the fake at half of Coda's rates, tap settings default."""
    ws = build_bench_workspace(
        docs=sizes.docs, pages=sizes.pages, tables=sizes.tables, rows=sizes.rows
    )
    fake = start_fake(ws, coda_config(RateLimits.coda().scaled(0.5)))
    try:
        result = run_coda_backup(
            fake,
            bounds.Plan(full=True),
            workdir / "backup-half",
            workdir / "logs" / "half-limits",
            incremental=False,
            label="full backup, fake at half Coda's limits",
            timeout=timeout,
        )
    finally:
        fake.stop()
    result["workspace"] = workspace_facts(ws)
    return result


# -- CPU per row ---------------------------------------------------------------------------


def row_path_catalog(fake: FakeCoda, workdir: Path) -> Path:
    """tap-coda's own catalog with page exports deselected: only the row path is timed."""
    config = write_json(workdir / "tap-discover.json", {"api_url": fake.url})
    found = subprocess.run(
        [script("tap-coda"), "--config", str(config), "--discover"],
        capture_output=True,
        check=True,
        env=child_env(LOGLEVEL="WARNING"),
        cwd=REPO,
        timeout=300,
    )
    catalog = json.loads(found.stdout)
    for stream in catalog["streams"]:
        selected = stream["tap_stream_id"] != "page_contents"
        for entry in stream.get("metadata", []):
            if entry.get("breadcrumb") == []:
                entry["metadata"]["selected"] = selected
    return write_json(workdir / "tap-catalog-rows.json", catalog)


def _pipe(
    name: str, tap: list[str], target: list[str], workdir: Path, timeout: float
) -> procwatch.RunStats:
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return procwatch.run_pipe(
        (f"{name}-tap", tap),
        (f"{name}-target", target),
        env=child_env(LOGLEVEL="WARNING"),
        cwd=REPO,
        logs=logs,
        timeout=timeout,
    )


def run_ours(fake: FakeCoda, workdir: Path, timeout: float) -> procwatch.RunStats:
    catalog = row_path_catalog(fake, workdir)
    tap_config = write_json(workdir / "ours-tap.json", {"api_url": fake.url})
    target_config = write_json(workdir / "ours-target.json", {"output_dir": str(workdir / "out")})
    return _pipe(
        "ours",
        [script("tap-coda"), "--config", str(tap_config), "--catalog", str(catalog)],
        [script("target-files"), "--config", str(target_config)],
        workdir,
        timeout,
    )


def run_naive(fake: FakeCoda, workdir: Path, timeout: float) -> procwatch.RunStats:
    doc, table = next(fake.workspace.iter_tables())
    tap_config = write_json(
        workdir / "naive-tap.json",
        {"api_url": fake.url, "api_token": TOKEN, "doc_id": doc.id, "table_id": table.id},
    )
    target_config = write_json(workdir / "naive-target.json", {"output_path": str(workdir)})
    py = sys.executable
    return _pipe(
        "naive",
        [py, "-m", "benchmarks.naive.tap", "--config", str(tap_config)],
        [py, "-m", "benchmarks.naive.target", "--config", str(target_config)],
        workdir,
        timeout,
    )


def run_bare(fake: FakeCoda, workdir: Path, timeout: float) -> procwatch.RunStats:
    doc, table = next(fake.workspace.iter_tables())
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "benchmarks.naive.bare", fake.url, doc.id, table.id]
    return procwatch.run_single(
        "bare",
        [*argv, str(workdir / "bare.csv")],
        env=child_env(),
        cwd=REPO,
        logs=logs,
        timeout=timeout,
        exact=True,
    )


def _count_csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def _one_table_workspace(rows: int) -> Workspace:
    return build_bench_workspace(docs=1, pages=1, tables=1, rows=rows, seed=1)


def cpu(sizes: Sizes, workdir: Path, timeout: float) -> dict[str, Any]:
    """CPU (user+sys of the pipeline's processes) per row, ours vs naive vs bare.

    Each pipeline runs at two table sizes; the per-row cost is the slope between them, so
    interpreter start-up and imports (a fixed cost) cancel out. Page exports are
    deselected in tap-coda's catalog (the baselines do not export pages either).
    """
    points: dict[str, dict[int, dict[str, Any]]] = {"ours": {}, "naive": {}, "bare": {}}
    for rows in sizes.cpu_rows:
        ws = _one_table_workspace(rows)
        fake = start_fake(ws, cpu_config())
        try:
            # Interleaved repeats, the least CPU of each kept: on a shared machine a
            # neighbour only ever adds CPU time, so the minimum is the least disturbed.
            for attempt in range(sizes.cpu_repeats):
                for name, runner in (("ours", run_ours), ("naive", run_naive), ("bare", run_bare)):
                    where = workdir / f"cpu-{rows}" / f"{name}-{attempt}"
                    where.mkdir(parents=True, exist_ok=True)
                    fake.reset_log()
                    stats = runner(fake, where, timeout)
                    written = _rows_written(name, where, fake.workspace)
                    point = {
                        "ok": stats.ok() and written == rows,
                        "rows_written": written,
                        "wall": stats.wall,
                        "cpu": sum(p.cpu for p in stats.procs.values()),
                        "cpu_by_process": {n: p.cpu for n, p in stats.procs.items()},
                        "rss_mb": {n: p.maxrss_kb / 1024 for n, p in stats.procs.items()},
                        "requests": fake.count(),
                    }
                    best = points[name].get(rows)
                    runs = (best["runs"] if best else []) + [round(point["cpu"], 3)]
                    ok = point["ok"] and (best is None or best["ok"])
                    if best is None or point["cpu"] < best["cpu"]:
                        best = point
                    points[name][rows] = best | {"runs": runs, "ok": ok}
        finally:
            fake.stop()
    small, large = sizes.cpu_rows
    result: dict[str, Any] = {"rows": list(sizes.cpu_rows), "points": points, "slope_us": {}}
    for name, by_size in points.items():
        slope = (by_size[large]["cpu"] - by_size[small]["cpu"]) / (large - small)
        result["slope_us"][name] = slope * 1e6
        result.setdefault("total_us", {})[name] = by_size[large]["cpu"] / large * 1e6
        result.setdefault("fixed_s", {})[name] = by_size[large]["cpu"] - slope * large
    result["ok"] = all(p["ok"] for by in points.values() for p in by.values())
    return result


def _rows_written(name: str, where: Path, ws: Workspace) -> int:
    if name == "bare":
        return _count_csv_rows(where / "bare.csv")
    if name == "naive":
        path = where / "rows.csv"
        return _count_csv_rows(path) if path.is_file() else 0
    check = check_backup(where / "out", ws, pages=False)
    return int(check.get("rows_written", 0)) if check.get("rows_missing") == 0 else -1


# -- memory ---------------------------------------------------------------------------------


def memory(sizes: Sizes, workdir: Path, timeout: float) -> dict[str, Any]:
    """Peak RSS of tap-coda and target-files for one table of `memory_rows` rows."""
    started = time.monotonic()
    ws = _one_table_workspace(sizes.memory_rows)
    fake = start_fake(ws, cpu_config())
    prepared = time.monotonic() - started
    try:
        where = workdir / "memory"
        where.mkdir(parents=True, exist_ok=True)
        stats = run_ours(fake, where, timeout)
        check = check_backup(where / "out", ws, pages=False)
        requests = Counter(analysis.kind_of(e) for e in fake.log)
    finally:
        fake.stop()
    return {
        "rows": sizes.memory_rows,
        "ok": stats.ok() and bool(check.get("ok")),
        "wall": stats.wall,
        "fake_setup_s": prepared,
        "rss_mb": {
            "tap": stats.procs["ours-tap"].maxrss_kb / 1024,
            "target": stats.procs["ours-target"].maxrss_kb / 1024,
        },
        "cpu": {n: p.cpu for n, p in stats.procs.items()},
        "requests": dict(requests),
        "check": check,
    }
