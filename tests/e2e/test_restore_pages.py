"""`coda-backup restore pages|doc` end to end: a saved page tree comes back into another doc
(or a new one) and exports to the content that was saved."""

from __future__ import annotations

import typing as t
from pathlib import Path

from fakecoda import FakeCoda, Workspace
from tests.e2e.backup_cli import Result, run_coda_backup
from tests.e2e.restore_cli import report, run_restore, writes
from tests.e2e.restore_ws import restore_workspace
from tests.fakes import StartFake


def backup(fake: FakeCoda, out: Path) -> Result:
    result = run_coda_backup("--html-pages", output=out, fake=fake)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def html_of(result: Result, page_id: str) -> str:
    for doc in result.manifest()["docs"]:
        for page in doc["pages"]:
            if page["id"] == page_id:
                return (result.run_dir / page["files"]["html"]["path"]).read_text(encoding="utf-8")
    raise AssertionError(f"page {page_id} is not in run {result.latest}")


def shape(ws: Workspace, doc_id: str, ids: t.Iterable[str]) -> list[tuple[t.Any, ...]]:
    """Name, parent's name, hidden flag, subtitle and icon of each page."""
    doc = ws.doc(doc_id)
    by_id = {p.id: p for p in doc.pages}
    out = []
    for page_id in ids:
        page = by_id[page_id]
        parent = by_id.get(page.parent_id or "")
        icon = (page.icon or {}).get("name")
        above = parent.name if parent else None
        out.append((page.name, above, page.is_hidden, page.subtitle, icon))
    return out


def test_a_page_tree_restored_into_another_doc(start_fake: StartFake, tmp_path: Path) -> None:
    ws = restore_workspace()
    with start_fake(ws, mutation_seconds=0.1) as fake:
        first = backup(fake, tmp_path / "out")
        ops, _ = ws.tagged("page.home")
        spare = ws.doc(ws.tags["doc.spare"])
        args = ["--from", str(tmp_path / "out"), "--doc", ops.id, "--page", "Home"]
        args += ["--recursive", "--to-doc", spare.id, "--json"]
        before = writes(fake)
        plan = report(run_restore(fake, "pages", *args))
        assert writes(fake) == before  # the plan alone sends no write
        assert [c["name"] for c in plan["objects"]["create"]] == ["Home", "Plans", "Q3", "Secret"]

        done = report(run_restore(fake, "pages", *args, "--apply"))
        assert done["writes_sent"] == done["writes_confirmed"] == plan["write_requests"] == 5
        old_ids = [c["id"] for c in plan["objects"]["create"]]
        new_ids = [done["id_map"][old] for old in old_ids]
        assert shape(ws, spare.id, new_ids) == shape(ws, ops.id, old_ids)

        again = backup(fake, tmp_path / "again")
        for old, new in zip(old_ids, new_ids, strict=True):
            assert html_of(again, new) == html_of(first, old)

        before = writes(fake)
        second = report(run_restore(fake, "pages", *args, "--apply"))
        assert second["counts"]["create"] == 0 and writes(fake) == before
        assert second["id_map"] == done["id_map"]

        under = ["--from", str(tmp_path / "out"), "--doc", ops.id, "--page", "Board"]
        under += ["--to-doc", spare.id, "--parent", "Landing", "--json", "--apply"]
        board = report(run_restore(fake, "pages", *under))
        _, saved_board = ws.tagged("page.board")
        new_board = ws.page(spare.id, board["id_map"][saved_board.id])
        assert ws.page(spare.id, new_board.parent_id or "").name == "Landing"


def test_a_doc_restored_as_a_new_doc(start_fake: StartFake, tmp_path: Path) -> None:
    ws = restore_workspace()
    with start_fake(ws) as fake:
        backup(fake, tmp_path / "out")
        ops, _ = ws.tagged("doc.ops")
        args = ["--from", str(tmp_path / "out"), "--doc", ops.id, "--name", "Ops again", "--json"]
        plan = report(run_restore(fake, "doc", *args))
        assert plan["doc"] == {"name": "Ops again", "id": None, "create": True}
        assert any("Tasks" in note for note in plan["not_restorable_kinds"])

        done = report(run_restore(fake, "doc", *args, "--apply"))
        copy = ws.doc(done["doc"]["id"])
        assert copy.name == "Ops again"
        saved = [p.id for p in ws.pages_in_order(ops)]
        restored = [p.id for p in ws.pages_in_order(copy)]
        assert shape(ws, copy.id, restored) == shape(ws, ops.id, saved)

        again = report(run_restore(fake, "doc", *args, "--apply"))
        assert again["doc"]["create"] is False and again["counts"]["create"] == 0
        assert [d.name for d in ws.docs].count("Ops again") == 1
