"""Peak memory of `tap-coda | target-files` with one large attachment (`benchmarks.assets`).

A doc whose one page links one attachment is backed up twice through the real scripts and a
real pipe, against the fake's asset host: once with a 3 KB file, once with a 300 MB one.
The tap streams the file to a spool file and sends it as bounded base64 chunks; the target
appends each chunk to its staging file: neither should hold the file. Reported: each
process's exact peak RSS (benchmarks.procwatch) and the difference between the runs; the
stored file is checked against the served bytes. Prints one Markdown section, kept in
`benchmarks/RESULTS-assets.md`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from benchmarks import procwatch
from benchmarks.scenarios import REPO, child_env, script, write_json
from fakecoda import FakeCoda, FakeConfig, Workspace
from fakecoda.assets import AssetFile
from fakecoda.builders import _workspace

TOKEN = "bench-token-assets"
SMALL, LARGE = 3 * 1024, 300 * 1024 * 1024
LIMIT_MB = 30  # issue #14: a 300 MB attachment costs no more than 30 MB more


def workspace(size: int) -> Workspace:
    _, b = _workspace(0, ("ws-Bench0001", "Bench"))
    doc = b.doc("Files")
    b.page(doc, "Attachment", markdown="# Attachment\n\n[the file](coda-asset:big)\n")
    b.ws.assets["big"] = AssetFile(
        "big", "big.bin", "application/octet-stream", b"0123456789abcdef", size
    )
    return b.finish()


def run_once(size: int, workdir: Path) -> dict[str, float]:
    ws = workspace(size)
    with FakeCoda(ws, FakeConfig(token=TOKEN)) as fake:
        assert fake.asset_host is not None
        tap = {
            "api_url": fake.url,
            "asset_hosts": [fake.asset_host.host],
            "export_poll_interval": 0.02,
            "rate_limit_reads": 0,
            "rate_limit_writes": 0,
            "rate_limit_list_docs": 0,
        }
        out = workdir / "out"
        logs = workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        stats = procwatch.run_pipe(
            ("tap", [script("tap-coda"), "--config", str(write_json(workdir / "tap.json", tap))]),
            (
                "target",
                [
                    script("target-files"),
                    "--config",
                    str(write_json(workdir / "target.json", {"output_dir": str(out)})),
                ],
            ),
            env=child_env(CODA_API_TOKEN=TOKEN, LOGLEVEL="WARNING"),
            cwd=REPO,
            logs=logs,
            timeout=1800,
        )
    assert stats.ok(), (logs / "target.err").read_text(encoding="utf-8")[-2000:]
    run = out / (out / "latest.txt").read_text(encoding="utf-8").strip()
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["docs"][0]["assets"]
    digest = hashlib.sha256()
    with (run / entry["path"]).open("rb") as stored:
        while piece := stored.read(1 << 20):
            digest.update(piece)
    assert digest.hexdigest() == ws.assets["big"].sha256() and entry["size"] == size
    return {
        "wall_s": stats.wall,
        "tap_mb": stats.procs["tap"].maxrss_kb / 1024,
        "target_mb": stats.procs["target"].maxrss_kb / 1024,
        "size": size,
    }


def _row(label: str, run: dict[str, float]) -> str:
    return (
        f"| {label} | {run['wall_s']:.1f} s | {run['tap_mb']:.1f} MB | {run['target_mb']:.1f} MB |"
    )


def section(small: dict[str, float], large: dict[str, float]) -> str:
    tap_diff, target_diff = (
        large["tap_mb"] - small["tap_mb"],
        large["target_mb"] - small["target_mb"],
    )
    ok = tap_diff <= LIMIT_MB and target_diff <= LIMIT_MB
    return "\n".join(
        [
            "# Assets: peak memory with one large attachment",
            "",
            f"`python -m benchmarks.assets`, {time.strftime('%Y-%m-%d')}: one page linking one "
            "attachment, `tap-coda | target-files` against the fake's asset host; exact peak "
            "RSS per process (benchmarks/procwatch.py). One run each.",
            "",
            "| attachment | wall | tap peak RSS | target peak RSS |",
            "|---|---|---|---|",
            _row("3 KB", small),
            _row(f"{large['size'] / 2**20:.0f} MB", large),
            f"| difference | | {tap_diff:+.1f} MB | {target_diff:+.1f} MB |",
            "",
            f"Within {LIMIT_MB} MB of the small run for both processes: {'yes' if ok else 'NO'}. "
            "The stored file's sha256 equals the served bytes'.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mb", type=int, default=LARGE // (1024 * 1024))
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS-assets.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-assets-") as tmp:
        small = run_once(SMALL, Path(tmp) / "small")
        large = run_once(args.large_mb * 1024 * 1024, Path(tmp) / "large")
    text = section(small, large)
    print(text)
    if args.write:
        (Path(__file__).parent / "RESULTS-assets.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
