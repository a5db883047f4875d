"""Deep and long trees (issue #12): a page tree 20 levels deep of 210-character names once
made every run fail with "File name too long". Past a depth budget a page's children
start again at the top of `pages/` (target_files/layout.py), so every path fits Linux's
4,096 bytes and every name its 255; the backup is complete and every file opens."""

from __future__ import annotations

import os
from pathlib import Path

from fakecoda import build_demo_workspace
from target_files import layout
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, check_run
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_pipe

TOKEN = "tok-DEEP-sEcReT-6f1e"
LEVELS = 20


def long_name(level: int) -> str:
    """210 characters, some of them two and three bytes long in UTF-8."""
    head = f"Level {level:02d} Ünïcödé — "
    return (head + "deep page name " * 20)[:210]


def test_twenty_levels_of_long_names_back_up_completely(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    doc = ws.docs[0]
    parent = None
    for level in range(LEVELS):
        page = ws.add_page(doc.id, long_name(level), parent, f"Level {level} content.\n")
        parent = page.id
    fake = start_fake(ws, token=TOKEN)
    # A long output path too (about 300 bytes), as a user's home and mount points make.
    output = tmp_path.joinpath(*["a-rather-long-folder-name"] * 11, "backups")
    run_pipe(
        {"api_url": fake.url, **FAST_TAP, "page_formats": ["markdown", "html"]},
        {"output_dir": str(output)},
        tmp_path / "work",
        token=TOKEN,
    ).check()
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    run = output / latest
    docs = listed_docs(ws)
    failures = check_run(Tree(run, ws, fake.url), docs, formats=("markdown", "html"))
    assert all(f.get("kind") == "skip" or f["object_type"] != "page_content" for f in failures)
    longest = 0
    for root, dirs, files in os.walk(run):
        for name in [*dirs, *files]:
            assert len(name.encode("utf-8")) <= layout.MAX_NAME_BYTES, name
            path = Path(root) / name
            longest = max(longest, len(os.fsencode(path)))
            if name in files:
                path.read_bytes()  # every file opens
    assert longest < 4096
    deep = list((run / "docs").rglob("Level 19*.md"))
    assert len(deep) == 1 and deep[0].read_text(encoding="utf-8").startswith("Level 19")
