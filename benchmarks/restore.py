"""Benchmark of `coda-backup restore rows --apply` (`python -m benchmarks.restore`).

A table of 10,000 rows is backed up with `--rows-json` by the real `coda-backup` against
the fake at Coda's limits (reads 100 / 6 s, writes 10 / 6 s, 80 ms a response), every row
is then deleted in the fake, and `restore rows --apply` puts them back. The bound is what
Coda's write limit allows for the write requests the restore needed (ten at once, then ten
per 6 s window) plus the fake's delay before the last write is applied; the ratio is the
restore's wall time (a Python start, the plan, every write confirmed) over that bound.
Every row is checked back, cell for cell. Prints one Markdown section, kept in
`benchmarks/RESULTS-restore.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

from benchmarks.scenarios import child_env, coda_config, cool_down, script, start_fake
from coda_backup.restore.report import write_bound_seconds
from fakecoda import Workspace
from fakecoda.builders import BUILD_START, TEXT, Builder, fmt, select
from fakecoda.workspace import FakeClock

MUTATION_SECONDS = 2.0  # Coda's probes: 10-23 s; shorter here, it only adds to both sides
TARGET_RATIO = 1.15


def workspace(rows: int) -> Workspace:
    user = {
        "name": "Bench User",
        "loginId": "bench@example.com",
        "tokenName": "bench",
        "scoped": False,
        "pictureLink": "https://cdn.coda.io/avatars/default_avatar.png",
        "workspace": {
            "id": "ws-Bench0001",
            "type": "workspace",
            "browserLink": "https://coda.io/docs?workspaceId=ws-Bench0001",
            "name": "Bench",
        },
    }
    ws = Workspace(docs=[], user=user, clock=FakeClock(BUILD_START))
    b = Builder(ws, random.Random(3))
    doc = b.doc("Restore bench", tag="doc.bench")
    page = b.page(doc, "Data")
    columns = [
        ("Item", TEXT),
        ("Qty", fmt("number", precision=0)),
        ("State", select("new", "open", "done")),
        ("Notes", TEXT),
    ]
    values = [
        {"Item": f"Item {i}", "Qty": i % 97, "State": ("new", "open", "done")[i % 3],
         "Notes": f"note {i} " + "x" * (i % 40)}
        for i in range(rows)
    ]  # fmt: skip
    b.table(doc, "Items", page, columns, values, tag="table.items")
    return b.finish()


def measure(rows: int, workdir: Path) -> dict[str, t.Any]:
    ws = workspace(rows)
    env = child_env(XDG_CACHE_HOME=str(workdir / "cache"))
    fake = start_fake(ws, coda_config(mutation_seconds=MUTATION_SECONDS))
    try:
        out = workdir / "backups"
        base = [script("coda-backup"), "--api-url", fake.url]
        subprocess.run([*base[:1], "--output", str(out), *base[1:], "--rows-json"],
                       env=env, check=True, capture_output=True)  # fmt: skip
        doc, table = ws.tagged("table.items")
        saved = {r.id: dict(r.values) for r in table.rows}
        for row_id in list(saved):
            ws.delete_row(doc.id, table.id, row_id)
        cool_down(fake)
        fake.reset_log()
        command = [script("coda-backup"), "restore", "rows", "--api-url", fake.url, "--from",
                   str(out), "--doc", doc.id, "--table", table.id, "--apply", "--json"]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        wall = time.monotonic() - started
        result = json.loads(proc.stdout)
        restored = {new: saved[old] for old, new in result["id_map"].items()}
        live = {r.id: r.values for r in table.rows}
        lost = len(saved) - sum(1 for k, v in restored.items() if live.get(k) == v)
        writes = result["write_requests"]
        bound = write_bound_seconds(writes) + MUTATION_SECONDS
        sent = [e.ts - started for e in fake.log if e.rate_class == "write"]
        return {
            "rows": rows,
            "write_requests": writes,
            "writes_429": fake.count(rate_class="write", status=429),
            "reads": fake.count(rate_class="read"),
            "wall_s": round(wall, 2),
            "bound_s": round(bound, 2),
            "ratio": round(wall / bound, 3),
            "lost": lost,
            "first_write_s": round(min(sent), 2),
            "last_write_s": round(max(sent), 2),
            "load_average": round(os.getloadavg()[0], 1),
        }
    finally:
        fake.stop()


def section(r: dict[str, t.Any]) -> str:
    met = "met" if r["ratio"] <= TARGET_RATIO and not r["lost"] else "NOT met"
    return (
        "## Restore\n\n"
        f"`python -m benchmarks.restore`: {r['rows']:,} deleted rows put back by "
        f"`coda-backup restore rows --apply` against the fake at Coda's limits (writes 10 / 6 s, "
        f"80 ms a response, each write applied {MUTATION_SECONDS:g} s after its 202).\n\n"
        f"- {r['write_requests']} write requests (upserts of at most 100 rows, each within "
        f"2 MB), {r['writes_429']} answered 429; {r['reads']} reads (listing, mutationStatus).\n"
        f"- wall {r['wall_s']} s against the bound of {r['bound_s']} s (Coda's write limit for "
        f"{r['write_requests']} requests, plus the last write's apply delay): "
        f"**{r['ratio']}x**; rows lost or wrong: {r['lost']}.\n"
        f"- Where the time goes: the first write left at {r['first_write_s']} s (Python's start, "
        f"reading the run, listing the live table, the plan), the last at {r['last_write_s']} s "
        f"(the shared pacing's 6.15 s windows), then the last write's apply delay and its "
        f"confirmation. The machine was shared (load average {r['load_average']} on "
        f"{os.cpu_count()} CPUs).\n\n"
        f"Target (issue #16): within {TARGET_RATIO}x the bound: {met}.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.restore", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--results", type=Path, help="write the section here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-restore-") as tmp:
        result = measure(args.rows, Path(tmp))
    text = section(result)
    print(text)
    print(json.dumps(result))
    if args.results:
        args.results.write_text(text, encoding="utf-8")
    return 0 if not result["lost"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
