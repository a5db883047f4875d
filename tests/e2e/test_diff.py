"""`coda-backup diff` after the fake's mutations (rows edited, added and deleted, a
column added, a page and a table renamed, pages added and deleted): exactly the changes
the fake's ground truth shows between the two backups, nothing else."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import run_coda_backup
from tests.snap.runfolders import coda_backup

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda, Workspace

StartFake = t.Callable[..., "FakeCoda"]
Key = tuple[str, str]


def truth(ws: Workspace) -> dict[str, t.Any]:
    """What Coda serves now: per table its columns and rows (values as the API renders
    them), per page its name and export."""
    tables, pages = {}, {}
    for doc, table in ws.iter_tables():
        rows = {r.id: ws.api_row(doc, table, r)["values"] for r in ws.rows_of(doc, table)}
        columns = [c.id for c in table.columns]
        tables[(doc.id, table.id)] = {"name": table.name, "rows": rows, "columns": columns}
    for doc in ws.docs:
        for page in doc.pages:
            content = None if page.export_fails else ws.export_content(doc, page)
            pages[(doc.id, page.id)] = {"name": page.name, "content": content}
    return {"tables": tables, "pages": pages}


def expected_table_changes(before: dict[Key, t.Any], after: dict[Key, t.Any]) -> dict[Key, t.Any]:
    changes = {}
    for key in before.keys() & after.keys():
        a, b = before[key], after[key]
        common = [c for c in b["columns"] if c in a["columns"]]
        change = {
            "rows_added": sorted(b["rows"].keys() - a["rows"].keys()),
            "rows_removed": sorted(a["rows"].keys() - b["rows"].keys()),
            "rows_changed": sorted(
                (rid, tuple(c for c in common if a["rows"][rid].get(c) != b["rows"][rid].get(c)))
                for rid in a["rows"].keys() & b["rows"].keys()
                if any(a["rows"][rid].get(c) != b["rows"][rid].get(c) for c in common)
            ),
            "columns_added": [c for c in b["columns"] if c not in a["columns"]],
            "columns_removed": [c for c in a["columns"] if c not in b["columns"]],
        }
        if any(change.values()):
            changes[key] = change
    return changes


def mutate(ws: Workspace) -> dict[str, t.Any]:
    """One of each change; returns what was done."""
    bases = [
        (d, tb) for d, tb in ws.iter_tables() if tb.table_type == "table" and len(tb.rows) >= 3
    ]
    (doc, table), (doc2, table2) = bases[0], bases[-1]
    assert table.id != table2.id
    edited, deleted = table.rows[0], table.rows[1]
    text_column = next(
        c for c in table.columns if c.format.get("type") == "text" and not c.calculated
    )
    ws.edit_row(doc.id, table.id, edited.id, {text_column.id: "Edited by the diff test"})
    ws.delete_row(doc.id, table.id, deleted.id)
    added = ws.add_row(doc.id, table.id, {text_column.id: "Added by the diff test"})
    column = ws.add_column(doc2.id, table2.id, "Diff test column")
    ws.rename_table(doc2.id, table2.id, f"{table2.name} renamed")
    canvas = [(d, p) for d in ws.docs for p in d.pages if p.content_type == "canvas"]
    renamed_doc, renamed = canvas[0]
    ws.rename_page(renamed_doc.id, renamed.id, f"{renamed.name} renamed")
    leaves = [
        (d, p)
        for d, p in canvas[1:]
        if not ws.children(d, p) and not any(tb.parent_page_id == p.id for tb in d.tables)
    ]
    gone_doc, gone = leaves[-1]
    ws.delete_page(gone_doc.id, gone.id)
    new_page = ws.add_page(doc.id, "Added by the diff test")
    return {
        "edited": (doc.id, table.id, edited.id, text_column.id),
        "added_row": added.id,
        "deleted_row": deleted.id,
        "column": (doc2.id, table2.id, column.id),
        "renamed_page": (renamed_doc.id, renamed.id),
        "deleted_page": (gone_doc.id, gone.id),
        "added_page": (doc.id, new_page.id),
        "renamed_table": (doc2.id, table2.id),
    }


def keys(entries: list[dict[str, t.Any]]) -> set[Key]:
    return {(e["doc_id"], e["id"]) for e in entries}


def test_diff_reports_exactly_the_fakes_changes(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    first = run_coda_backup(output=output, fake=fake)
    assert first.returncode == 0, first.stderr
    old_run = first.latest
    before = truth(ws)
    done = mutate(ws)
    after = truth(ws)
    second = run_coda_backup("--incremental", output=output, fake=fake)
    assert second.returncode == 0, second.stderr

    ran = coda_backup("diff", "--output", str(output), "--json")
    assert ran.returncode == 0, ran.stderr
    got = ran.json()
    assert (got["old"], got["new"]) == (old_run, second.latest)
    assert got["docs"] == {"added": [], "removed": [], "renamed": []}

    pages = got["pages"]
    assert keys(pages["added"]) == {done["added_page"]}
    assert keys(pages["removed"]) == {done["deleted_page"]}
    assert [(e["doc_id"], e["id"], e["old_name"], e["new_name"]) for e in pages["renamed"]] == [
        (
            *done["renamed_page"],
            before["pages"][done["renamed_page"]]["name"],
            after["pages"][done["renamed_page"]]["name"],
        )
    ]
    content_changed = {
        k
        for k in before["pages"].keys() & after["pages"].keys()
        if before["pages"][k]["content"] != after["pages"][k]["content"]
    }
    assert keys(pages["changed"]) == content_changed
    assert content_changed  # the pages holding the edited tables

    tables = got["tables"]
    assert tables["added"] == [] and tables["removed"] == []
    assert [(e["doc_id"], e["id"]) for e in tables["renamed"]] == [done["renamed_table"]]
    want = expected_table_changes(before["tables"], after["tables"])
    assert {(e["doc_id"], e["id"]) for e in tables["changed"]} == set(want)
    for e in tables["changed"]:
        expected = want[(e["doc_id"], e["id"])]
        assert sorted(e["rows_added"]) == expected["rows_added"]
        assert sorted(e["rows_removed"]) == expected["rows_removed"]
        assert (
            sorted((r["id"], tuple(r["columns"])) for r in e["rows_changed"])
            == expected["rows_changed"]
        )
        assert [c["id"] for c in e["columns_added"]] == expected["columns_added"]
        assert [c["id"] for c in e["columns_removed"]] == expected["columns_removed"]
    doc_id, table_id, row_id, column_id = done["edited"]
    edited = next(e for e in tables["changed"] if (e["doc_id"], e["id"]) == (doc_id, table_id))
    assert edited["rows_added"] == [done["added_row"]]
    assert edited["rows_removed"] == [done["deleted_row"]]
    assert edited["rows_changed"] == [{"id": row_id, "columns": [column_id]}]

    text = coda_backup("diff", "--output", str(output), old_run or "", second.latest or "")
    assert text.returncode == 0
    assert json.dumps(got)  # the same comparison, as lines:
    assert sum(line.startswith("table changed: ") for line in text.stdout.splitlines()) == len(want)
    assert f"page added: Added by the diff test ({done['added_page'][0]}" in text.stdout


def test_diff_usage(tmp_path: Path) -> None:
    output = tmp_path / "b"
    output.mkdir()
    assert coda_backup("diff", "--output", str(output)).returncode == 2
    assert coda_backup("diff", "--output", str(output), "a", "b", "c").returncode == 2
