"""STATE messages of real tap-coda runs: how many, and whether each one is safe to resume.

issue #17: a STATE holds every bookmark of the account, so one per page and table made a
run's cost grow with the square of its objects. They now go out per doc (and at most every
`STATE_INTERVAL_SECONDS`). What must not change: a STATE names only data that went out
before it, so a run interrupted right after any STATE and resumed from it ends up, over
both runs, with every row and every page of the fake.
"""

from __future__ import annotations

import json
import time
import typing as t
from pathlib import Path

import pytest

from fakecoda import build_bench_workspace
from fakecoda.render import export_content
from tap_coda.state import STATE_INTERVAL_SECONDS
from tests.e2e.backup_cli import TOKEN, console_script
from tests.helpers import FAST_TAP, run_tap

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda, Workspace

DOCS = 3


def tap_lines(fake: FakeCoda, tmp_path: Path, state: dict | None = None) -> list[dict]:
    console_script("tap-coda")
    done = run_tap({"api_url": fake.url, **FAST_TAP}, tmp_path, token=TOKEN, state=state)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def states(lines: list[dict]) -> list[int]:
    return [i for i, m in enumerate(lines) if m["type"] == "STATE"]


def test_state_messages_grow_with_docs_not_with_pages_and_tables(
    start_fake: t.Callable[..., FakeCoda], tmp_path: Path
) -> None:
    counts = {}
    for pages, tables in ((12, 3), (120, 30)):
        ws = build_bench_workspace(docs=DOCS, pages=pages, tables=tables, rows=20 * tables)
        where = tmp_path / str(pages)
        where.mkdir()
        started = time.monotonic()
        lines = tap_lines(start_fake(ws), where)
        elapsed = time.monotonic() - started
        # one STATE per doc, the input state's echo and the final one, plus one per
        # interval the run lasted
        allowed = DOCS + 2 + int(elapsed // STATE_INTERVAL_SECONDS)
        counts[pages] = len(states(lines))
        assert 1 <= counts[pages] <= allowed, (pages, counts[pages])
    assert counts[120] <= counts[12] + int(elapsed // STATE_INTERVAL_SECONDS)


def truth(ws: Workspace) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Row ids per table and markdown per canvas page of every doc the tap backs up."""
    docs = [d for d in ws.docs if d.listed and d.is_owner]
    rows = {tb.id: {r.id for r in ws.rows_of(d, tb)} for d in docs for tb in d.tables}
    pages = {
        p.id: export_content(ws, d, p, "markdown")
        for d in docs
        for p in d.pages
        if p.content_type == "canvas"
    }
    return rows, pages


def received(messages: list[dict]) -> tuple[dict[str, set[str]], dict[str, str]]:
    rows: dict[str, set[str]] = {}
    pages: dict[str, str] = {}
    for m in messages:
        if m["type"] != "RECORD":
            continue
        record = m["record"]
        if m["stream"] == "rows":
            rows.setdefault(record["table_id"], set()).add(record["id"])
        elif m["stream"] == "page_contents" and record.get("content") is not None:
            pages[record["page_id"]] = record["content"]
    return rows, pages


@pytest.mark.parametrize("edit", [False, True], ids=["unchanged", "edited-after-cut"])
def test_a_run_cut_after_any_state_resumes_to_the_whole_workspace(
    start_fake: t.Callable[..., FakeCoda], tmp_path: Path, edit: bool
) -> None:
    ws = build_bench_workspace(docs=DOCS, pages=15, tables=5, rows=300)
    fake = start_fake(ws)
    first = tap_lines(fake, tmp_path)
    cuts = states(first)
    assert len(cuts) >= DOCS
    if edit:  # the account moves on between the cut and the resumed run
        doc = ws.docs[0]
        table = doc.tables[0]
        ws.add_row(doc.id, table.id, {"Name": "added after the cut"})
        page = next(p for p in doc.pages if p.content_type == "canvas")
        ws.edit_page(doc.id, page.id, markdown=page.markdown + "\nEdited after the cut.\n")
    want_rows, want_pages = truth(ws)
    for k, cut in enumerate(cuts):
        before = first[: cut + 1]  # what the target had when the run died after STATE k
        where = tmp_path / f"resume-{k}"
        where.mkdir()
        after = tap_lines(fake, where, state=before[-1]["value"])
        # over both runs, the later record winning: exactly the fake's rows and pages
        got_rows, got_pages = received(before + after)
        assert got_rows == want_rows, k
        assert got_pages == want_pages, k
