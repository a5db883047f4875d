"""The `refetch` setting through the real tap: named objects are read again whatever the
bookmarks say (for copies coda-backup found damaged); everything else stays incremental."""

from __future__ import annotations

import typing as t

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import TOKEN
from tests.helpers import FAST_TAP, SingerOutput, run_tap

if t.TYPE_CHECKING:
    from pathlib import Path

    from fakecoda import FakeCoda


def test_refetch_exports_a_page_and_reads_a_table_in_full(
    start_fake: t.Callable[..., FakeCoda], tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    config = {"api_url": fake.url, **FAST_TAP}
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    proc = run_tap(config, first_dir, token=TOKEN)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = SingerOutput.parse(proc.stdout)
    state = first.states[-1]

    table = next(t_ for t_ in first.of("tables") if t_.get("tableType") == "table")
    table_page = (table.get("parent") or {}).get("id")
    page = next(
        p for p in first.of("pages") if p.get("contentType") == "canvas" and p["id"] != table_page
    )
    refetch = [f"{page['doc_id']}/{page['id']}", f"{table['doc_id']}/{table['id']}"]

    proc = run_tap({**config, "refetch": refetch}, second_dir, token=TOKEN, state=state)
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = SingerOutput.parse(proc.stdout)

    exported = {(r["doc_id"], r["page_id"]) for r in second.of("page_contents")}
    # The named page, and the page of the table read again (its export shows the rows).
    expected = {(page["doc_id"], page["id"])}
    if table_page:
        expected.add((table["doc_id"], table_page))
    assert exported == expected
    modes = {(r["doc_id"], r["table_id"]): r["mode"] for r in second.of("table_syncs")}
    assert modes.pop((table["doc_id"], table["id"])) == "full"
    assert modes, "the workspace has other tables"
    assert set(modes.values()) == {"unchanged"}
    rows = [r for r in second.of("rows") if r["table_id"] == table["id"]]
    assert len(rows) == table["rowCount"]
