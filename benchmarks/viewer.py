"""Benchmark of the run's index.html (`python -m benchmarks.viewer [--keep DIR]`).

- **Cost in a backup**: a full backup of the bench workspace (`build_bench_workspace()`:
  4 docs, 100 pages, 30 tables and views, 100,000 rows) by the real `coda-backup` against
  the fake without rate limits, CPU of the whole process tree from `wait4`; then the index
  and its views built again from that run, in this process, the way target-files builds
  them (same writes, fsync included), CPU from `process_time`, best of three. The backup's
  CPU includes one build, so the index adds `build / (backup - build)`.
- **A big doc**: one doc of 500 pages and a table of 100,000 rows, backed up the same way;
  the build's CPU, the biggest view file, and in headless Chromium (Debian's, through
  Playwright) how long the doc's index and the table's view take to load, and a filter and
  a sort of the table's view take (`performance.now()` in the page). Wall times on a
  shared machine measure the neighbours too; they are reported from one run, not asserted.

Prints one Markdown section, kept in `benchmarks/RESULTS-viewer.md`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from coda_backup import runs
from fakecoda import FakeCoda, FakeConfig, build_bench_workspace
from target_files import fsutil, jsonio
from target_files.viewer.build import RunData, build

if t.TYPE_CHECKING:
    from fakecoda import Workspace

TOKEN = "bench-viewer-token-12345"  # the fake's, not a Coda token
FAST = {
    "export_poll_interval": 0.02,
    "rate_limit_reads": 0,
    "rate_limit_writes": 0,
    "rate_limit_list_docs": 0,
}
BIN = Path(sys.executable).parent
REPEAT = 3


def script(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def backup(ws: Workspace, output: Path) -> tuple[Path, float]:
    """A real full backup of `ws`; (the run folder, CPU seconds of the process tree)."""
    fake = FakeCoda(ws, FakeConfig(token=TOKEN, page_clamp=100, row_clamp=500)).start()
    try:
        fake.prewarm()
        env = {**os.environ, "CODA_API_TOKEN": TOKEN, "CODA_BACKUP_TAP_SETTINGS": json.dumps(FAST)}
        command = [script("coda-backup"), "--output", str(output), "--api-url", fake.url]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        stderr = proc.stderr.read() if proc.stderr else b""
        if os.waitstatus_to_exitcode(status) not in (0, 3):
            raise RuntimeError(stderr.decode(errors="replace")[-2000:])
    finally:
        fake.stop()
    return output / runs.resolve_run(output, "latest"), usage.ru_utime + usage.ru_stime


def run_data(run: Path) -> RunData:
    manifest = jsonio.loads((run / "manifest.json").read_bytes())
    summary = jsonio.loads((run / "summary.json").read_bytes())
    return RunData(
        root=run,
        run_id=run.name,
        files=set(manifest["files"]),
        docs=manifest["docs"],
        summary=summary,
        changes_note="first run",
    )


def build_cpu(run: Path, scratch: Path) -> tuple[float, int, int]:
    """Best CPU seconds of building the views of `run` into `scratch`, the number of
    files written and the biggest one's size."""
    perms = fsutil.Perms(private=True, fsync=True, hardlinks=True)
    sizes: dict[str, int] = {}

    def write(rel: str, text: str) -> None:
        fsutil.write_text(scratch / rel, text, perms)
        sizes[rel] = len(text.encode())

    best = float("inf")
    for _ in range(REPEAT):
        shutil.rmtree(scratch, ignore_errors=True)
        data = run_data(run)  # reading the manifest is part of the work
        start = time.process_time()
        build(data, write)
        best = min(best, time.process_time() - start)
    return best, len(sizes), max(sizes.values())


def in_browser(run: Path) -> dict[str, float]:
    """Load, filter and sort times of the big doc's views in headless Chromium."""
    from playwright.sync_api import sync_playwright  # only this part needs a browser

    from tests.e2e.browser import CHROMIUM, FLAGS

    out: dict[str, float] = {}
    profile = Path(tempfile.mkdtemp(prefix="bench-viewer-chromium-"))
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS
            )
            page = context.new_page()
            for name, rel in (("doc_index", "viewer/1/index.html"), ("table", "viewer/1/t1.html")):
                start = time.perf_counter()
                page.goto((run / rel).as_uri())
                out[f"{name}_load_ms"] = (time.perf_counter() - start) * 1000
            out["filter_ms"] = page.evaluate(
                """() => { const box = document.getElementById('filter'); const t0 =
                performance.now(); box.value = 'a'; box.dispatchEvent(new Event('input'));
                return performance.now() - t0; }"""
            )
            out["sort_ms"] = page.evaluate(
                """() => { const b = document.querySelector('table.rows th button');
                const t0 = performance.now(); b.click(); return performance.now() - t0; }"""
            )
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return out


def measure(work: Path, name: str, ws: Workspace, *, browser: bool) -> dict[str, float]:
    run, backup_cpu = backup(ws, work / name / "backups")
    cpu, files, biggest = build_cpu(run, work / name / "views")
    result = {"backup_cpu_s": backup_cpu, "build_cpu_s": cpu, "files": files, "biggest": biggest}
    result["pages"] = sum(len(d.pages) for d in ws.docs)
    result["rows"] = sum(len(tb.rows) for _d, tb in ws.iter_tables())
    if browser:
        result |= in_browser(run)
    return result


def report(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "## The run's index.html",
        "",
        f"`python -m benchmarks.viewer` on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; CPU seconds (user + sys); builds best of "
        f"{REPEAT}; the machine was shared, so wall times measure the neighbours too.",
        "",
        "| workspace | backup CPU (s) | index build CPU (s) | **adds** | view files | "
        "biggest view |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        adds = r["build_cpu_s"] / (r["backup_cpu_s"] - r["build_cpu_s"])
        lines.append(
            f"| {name} ({int(r['pages'])} pages, {int(r['rows']):,} rows) | "
            f"{r['backup_cpu_s']:.2f} | {r['build_cpu_s']:.2f} | **{adds:.1%}** | "
            f"{int(r['files'])} | {r['biggest'] / 1e3:.0f} kB |"
        )
    if (big := results.get("big doc")) and "table_load_ms" in big:
        lines += [
            "",
            f"Big doc in headless Chromium (one run): the doc's index with its "
            f"{int(big['pages'])}-page tree loads in {big['doc_index_load_ms']:.0f} ms, the "
            f"100,000-row table's view (its first 500 rows) in {big['table_load_ms']:.0f} ms; "
            f"a filter takes {big['filter_ms']:.0f} ms and a sort {big['sort_ms']:.0f} ms.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.viewer")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        work = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        results = {
            "bench": measure(work, "bench", build_bench_workspace(), browser=False),
            "big doc": measure(
                work,
                "big",
                build_bench_workspace(docs=1, pages=500, tables=1, rows=100_000),
                browser=True,
            ),
        }
    sys.stdout.write(report(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
