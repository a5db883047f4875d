"""Memory that grows with the account (issue #17: peak RSS of each process under 150 MB at
10,000 pages): the same kind of workspace at N and 4N pages through the real
`tap-coda | target-files` pipe, and the growth of each process's peak resident memory per
page between the two is bounded. A fixed cost (interpreter, imports, buffers) cancels out;
what a run keeps per page until its end does not.

Before the fix the target kept ~25 KB a page (the parsed Markdown of every page view,
which cmarkgfm never freed, every doc's page records held for index.html, manifest.json
whole twice): 4N - N = 450 pages showed as ~11 MB. The bound is on the kernel's peak RSS
of each child (`wait4`, `tests/e2e/measured.py`), never on a time.
"""

from __future__ import annotations

import typing as t

from fakecoda import build_bench_workspace
from tests.e2e.backup_cli import TOKEN
from tests.e2e.measured import measured_pipe
from tests.e2e.truth import Tree, check_run
from tests.helpers import FAST_TAP

if t.TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes import StartFake

#: Pages of the small workspace; the large one has four times its docs, pages and tables.
PAGES = 150
#: Growth allowed per page between the two, KB. Measured (one run): target 24.9 before the
#: fix, 10.0 after; tap 10.7.
MAX_KB_PER_PAGE = {"target": 15, "tap": 20}


def _backup(start_fake: StartFake, scale: int, workdir: Path) -> dict[str, float]:
    ws = build_bench_workspace(
        docs=2 * scale, pages=PAGES * scale, tables=10 * scale, rows=200 * scale, seed=2
    )
    fake = start_fake(ws, token=TOKEN)
    output = workdir / "backups"
    result = measured_pipe(
        {"api_url": fake.url, **FAST_TAP, "max_concurrency": 8},
        {"output_dir": str(output)},
        workdir,
        token=TOKEN,
    ).check()
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    assert check_run(Tree(output / latest, ws, fake.url), ws.docs) == []
    return result.peak_mb


def test_peak_memory_grows_by_a_few_kb_per_page(start_fake: StartFake, tmp_path: Path) -> None:
    small = _backup(start_fake, 1, tmp_path / "small")
    large = _backup(start_fake, 4, tmp_path / "large")
    extra_pages = PAGES * 3
    per_page_kb = {p: (large[p] - small[p]) * 1024 / extra_pages for p in MAX_KB_PER_PAGE}
    assert all(per_page_kb[p] < MAX_KB_PER_PAGE[p] for p in MAX_KB_PER_PAGE), (
        f"peak RSS MB small {small}, large {large}; KB per page {per_page_kb}"
    )
