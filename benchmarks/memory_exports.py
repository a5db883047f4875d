"""Peak resident memory of `tap-coda | target-files` for one page export of N MB.

`python -m benchmarks.memory_exports [--sizes 0 16 48] [--code DIR]`: the fake's test
workspace, one canvas page's Markdown made N MiB (under the 64 MiB download cap), served
by the fake in this process; the two processes' peak RSS comes from `wait4` in
`tests/e2e/peakrss.py`, their parent (a child's peak starts from its parent's size at the
fork, so this process, which holds the workspace, must not be it). `--code DIR` runs the
tap and target of another checkout (its `tap_coda`/`target_files` first on PYTHONPATH), for
a before/after table. Prints Markdown rows, kept in `benchmarks/RESULTS-memory-exports.md`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.scenarios import REPO, child_env, script
from fakecoda import FakeCoda, FakeConfig, build_test_workspace
from tests.helpers import FAST_TAP

TOKEN = "bench-token-memory"
LINE = "lorem ipsum dolor sit amet " * 3 + "\n"
LAUNCHER = REPO / "tests" / "e2e" / "peakrss.py"


def measure(mb: int, work: Path, code: Path | None) -> dict[str, float]:
    ws = build_test_workspace()
    doc = ws.docs[0]
    page = next(p for p in doc.pages if p.content_type == "canvas" and not p.export_fails)
    ws.edit_page(doc.id, page.id, markdown=LINE * ((mb << 20) // len(LINE)), html="<p>x</p>")
    extra = {"PYTHONPATH": str(code)} if code else {}
    with FakeCoda(ws, FakeConfig(token=TOKEN)) as fake:
        tap_cfg = work / "tap.json"
        tap_cfg.write_text(json.dumps({"api_url": fake.url, **FAST_TAP, "doc_ids": [doc.id]}))
        target_cfg = work / "target.json"
        target_cfg.write_text(json.dumps({"output_dir": str(work / "out")}))
        spec = {
            "tap": [script("tap-coda"), "--config", str(tap_cfg)],
            "target": [script("target-files"), "--config", str(target_cfg)],
            "tap_env": child_env(CODA_API_TOKEN=TOKEN, **extra),
            "target_env": {k: v for k, v in child_env(**extra).items() if k != "CODA_API_TOKEN"},
            "tap_err": str(work / "tap.err"),
            "target_err": str(work / "target.err"),
        }
        (work / "spec.json").write_text(json.dumps(spec))
        ran = subprocess.run(
            [sys.executable, str(LAUNCHER), str(work / "spec.json")],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(ran.stdout)
    if any(r["returncode"] for r in result.values()):
        raise SystemExit(f"{mb} MB run failed: {result}")
    return {name: r["peak_mb"] for name, r in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 16, 48])
    parser.add_argument("--code", type=Path, help="another checkout's tap and target")
    args = parser.parse_args()
    sys.stdout.write("| export | tap peak RSS | target peak RSS |\n|---|---:|---:|\n")
    for mb in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            peak = measure(mb, Path(tmp), args.code)
        sys.stdout.write(f"| {mb} MB | {peak['tap']:.0f} MB | {peak['target']:.0f} MB |\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
