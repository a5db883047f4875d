"""Benchmarks of the snapshot commands (`python -m benchmarks.snapshots [--only verify|diff]`).

- **verify** of the bench backup (`build_bench_workspace()`, backed up by the real
  `coda-backup` against the fake without rate limits) side by side with `sha256sum` over
  the same files, interleaved, best of five, page cache warm for both. Reported twice:
  the whole command (a Python start and its imports included) and the hashing alone
  (`verify.verify()` in this process), since a 20 MB backup is hashed faster than Python starts.
- **verify of 30 runs** sharing most files through hard links (as incremental runs do:
  each later run rewrites 2 of the CSVs) against verify of the newest one.
- **diff** of two runs of one 1,000,000-row table (1 % of rows edited, some added and
  removed, a column added): peak RSS of `coda-backup diff` from `wait4`.

Prints one Markdown section, kept in `benchmarks/RESULTS-snapshots.md`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from coda_backup import runs, verify
from fakecoda import FakeCoda, FakeConfig, build_bench_workspace

TOKEN = "bench-snapshots-token-1234"  # the fake's, not a Coda token
FAST = {
    "export_poll_interval": 0.02,
    "rate_limit_reads": 0,
    "rate_limit_writes": 0,
    "rate_limit_list_docs": 0,
}
BIN = Path(sys.executable).parent
REPEAT = 5


def script(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def timed(command: list[str]) -> tuple[float, int, int]:
    """CPU seconds (user + sys), exit code and peak RSS (KiB) of one child (wait4).

    CPU, not wall time: on a shared machine the wall clock measures the neighbours."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, proc.returncode, usage.ru_maxrss


def bench_backup(output: Path) -> str:
    """A real backup of the bench workspace; returns the run name."""
    fake = FakeCoda(build_bench_workspace(), FakeConfig(token=TOKEN, page_clamp=100)).start()
    try:
        env = {**os.environ, "CODA_API_TOKEN": TOKEN, "CODA_BACKUP_TAP_SETTINGS": json.dumps(FAST)}
        subprocess.run(
            [script("coda-backup"), "--output", str(output), "--api-url", fake.url],
            env=env,
            check=True,
            capture_output=True,
        )
    finally:
        fake.stop()
    run = runs.resolve_run(output, "latest")
    ensure_files_table(output / run)
    return run


def ensure_files_table(run_dir: Path) -> None:
    """Runs written before target-files recorded digests get them here, once."""
    manifest = runs.read_manifest(run_dir)
    if isinstance(manifest.get("files"), dict):
        return
    table = {}
    for rel, path in runs.walk_files(run_dir):
        st = path.stat()
        table[rel] = {
            "sha256": verify.sha256_of(path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }
    manifest["files"] = table
    (run_dir / runs.MANIFEST).chmod(0o600)
    (run_dir / runs.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def best(samples: list[float]) -> float:
    return min(samples)


def verify_vs_sha256sum(output: Path, run: str) -> dict[str, float]:
    run_dir = output / run
    paths = [str(p) for _rel, p in runs.walk_files(run_dir)]
    size = sum(Path(p).stat().st_size for p in paths)
    cmd_verify = [script("coda-backup"), "verify", "--output", str(output), run]
    cmd_sum = ["sha256sum", "--", *paths]
    timed(cmd_sum)  # warm the page cache for both
    tv, ts, inproc = [], [], []
    for _ in range(REPEAT):
        seconds, code, _rss = timed(cmd_verify)
        assert code == 0, "verify found damage in a fresh backup"
        tv.append(seconds)
        ts.append(timed(cmd_sum)[0])
        start = time.process_time()
        verify.verify(output, [run])
        inproc.append(time.process_time() - start)
    return {
        "files": len(paths),
        "bytes": size,
        "verify_s": best(tv),
        "sha256sum_s": best(ts),
        "verify_hash_s": best(inproc),
    }


def make_thirty_runs(output: Path, first: str, count: int = 30) -> list[str]:
    """count-1 more runs, hard links of the one before but for one rewritten file each
    (any file, picked at random: most files shared, as incremental runs share them)."""
    rng = random.Random(1)
    names = [first]
    csvs = sorted(rel for rel, _p in runs.walk_files(output / first))
    for i in range(1, count):
        name = f"2030-01-{1 + i // 24:02d}T{i % 24:02d}0000Z"
        src, dst = output / names[-1], output / name
        shutil.copytree(src, dst, copy_function=os.link)
        (dst / runs.MANIFEST).unlink()
        manifest = runs.read_manifest(src)
        for rel in rng.sample(csvs, 1):
            path = dst / rel
            data = path.read_bytes() + f"r-extra-{i},x\n".encode()
            path.unlink()
            path.write_bytes(data)
            st = path.stat()
            manifest["files"][rel] = {
                "sha256": verify.sha256_of(path),
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
            }
        (dst / runs.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        names.append(name)
    return names


def verify_many(output: Path, names: list[str]) -> dict[str, float]:
    one = [script("coda-backup"), "verify", "--output", str(output), names[-1]]
    every = [script("coda-backup"), "verify", "--output", str(output), "--all"]
    t1, tn = [], []
    for _ in range(REPEAT):
        seconds, code, _ = timed(one)
        assert code == 0
        t1.append(seconds)
        seconds, code, _ = timed(every)
        assert code == 0
        tn.append(seconds)
    return {"runs": len(names), "one_s": best(t1), "all_s": best(tn)}


def write_table_run(
    output: Path, name: str, rows: t.Iterable[list[str]], header: list[str]
) -> None:
    run_dir = output / name
    rel = "docs/Big__d1/tables/table/Big__Big__grid-big.csv"
    path = run_dir / rel
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    table = {"id": "grid-big", "name": "Big", "tableType": "table", "path": rel[:-4]}
    table["files"] = {"csv": {"path": rel}}
    doc = {"id": "d1", "name": "Big", "path": "docs/Big__d1", "pages": [], "tables": [table]}
    manifest = {"run_id": name, "docs": [doc], "files": {}}
    (run_dir / runs.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def diff_memory(output: Path, rows: int = 1_000_000) -> dict[str, float]:
    prefix = ["_row_id", "_row_name", "_row_index", "_created_at", "_updated_at", "_browser_link"]

    def old_rows() -> t.Iterator[list[str]]:
        for i in range(rows):
            yield [f"i-{i:08d}", f"Row {i}", str(i), "2026-01-01", "2026-01-01", "", f"v{i}", "x"]

    def new_rows() -> t.Iterator[list[str]]:
        for i in range(rows):
            if i % 500 == 7:
                continue  # removed
            value = f"v{i}!" if i % 100 == 3 else f"v{i}"
            yield [f"i-{i:08d}", f"Row {i}", str(i), "2026-01-01", "2026-01-02", "", value, "x", ""]
        for j in range(1000):
            yield [
                f"n-{j:08d}",
                f"New {j}",
                str(rows + j),
                "2026-01-02",
                "2026-01-02",
                "",
                "n",
                "y",
                "",
            ]

    write_table_run(output, "2031-01-01T000000Z", old_rows(), [*prefix, "A", "B"])
    write_table_run(output, "2031-01-02T000000Z", new_rows(), [*prefix, "A", "B", "C"])
    command = [
        script("coda-backup"),
        "diff",
        "--output",
        str(output),
        "2031-01-01T000000Z",
        "2031-01-02T000000Z",
        "--json",
    ]
    seconds, code, rss_kib = timed(command)
    assert code == 0, f"diff exited {code}"
    return {"rows": rows, "diff_s": seconds, "peak_rss_mb": rss_kib / 1024}


def report(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "## Snapshot commands",
        "",
        f"`python -m benchmarks.snapshots` on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; CPU seconds (user + sys, from wait4; the "
        f"machine was shared, so wall times measure the neighbours), best of {REPEAT}, "
        "page cache warm.",
        "",
    ]
    if v := results.get("verify"):
        mb = v["bytes"] / 1e6
        lines += [
            f"- verify of the bench backup ({int(v['files'])} files, {mb:.1f} MB): "
            f"`coda-backup verify` {v['verify_s']:.3f} s CPU, `sha256sum` over the same files "
            f"{v['sha256sum_s']:.3f} s CPU: **{v['sha256sum_s'] / v['verify_s']:.2f}x** "
            f"sha256sum's speed as commands (a Python start and its imports included); "
            f"the hashing alone "
            f"{v['verify_hash_s']:.3f} s: **{v['sha256sum_s'] / v['verify_hash_s']:.2f}x**.",
        ]
    if m := results.get("many"):
        lines.append(
            f"- verify of {int(m['runs'])} runs sharing files by hard links: {m['all_s']:.3f} s "
            f"against {m['one_s']:.3f} s for one: **{m['all_s'] / m['one_s']:.2f}x**."
        )
    if d := results.get("diff"):
        lines.append(
            f"- diff of two runs of a {int(d['rows']):,}-row table (1 % of rows edited, "
            f"0.2 % removed, 1,000 added, a column added): {d['diff_s']:.1f} s CPU, "
            f"peak RSS **{d['peak_rss_mb']:.0f} MB**."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.snapshots")
    parser.add_argument("--only", choices=["verify", "diff"])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with contextlib.ExitStack() as stack:
        work = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.only in (None, "verify"):
            output = work / "backups"
            run = runs.resolve_run(output, "latest") if output.is_dir() else bench_backup(output)
            results["verify"] = verify_vs_sha256sum(output, run)
            many = work / "many"
            if not many.is_dir():
                many.mkdir()
                shutil.copytree(output / run, many / run, copy_function=os.link)
            names = (
                make_thirty_runs(many, run)
                if len(runs.list_runs(many)) < 30
                else runs.list_runs(many)
            )
            results["many"] = verify_many(many, names)
        if args.only in (None, "diff"):
            big = work / "diff"
            shutil.rmtree(big, ignore_errors=True)
            big.mkdir()
            results["diff"] = diff_memory(big)
    sys.stdout.write(report(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
