"""`--rows-json`: `<table>.rows.jsonl` holds every row as the fake serves it, and stays so
through incremental runs (a delta merged in place, an unchanged table carried)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from fakecoda import FakeCoda
from tests.e2e.backup_cli import Result, run_coda_backup
from tests.e2e.restore_ws import restore_workspace
from tests.fakes import StartFake


def rows_files(result: Result) -> dict[str, dict[str, t.Any]]:
    """table id -> its manifest entry, for every table with a rows file."""
    return {
        table["id"]: table
        for doc in result.manifest()["docs"]
        for table in doc["tables"]
        if "rows_json" in table["files"]
    }


def served(fake: FakeCoda, doc_id: str, table_id: str) -> list[dict[str, t.Any]]:
    ws = fake.workspace
    doc, table = ws.doc(doc_id), ws.table(doc_id, table_id)
    return [
        ws.api_row(doc, table, row, "simpleWithArrays", base=fake.url)
        for row in ws.rows_of(doc, table)
    ]


def check_all(fake: FakeCoda, result: Result) -> dict[str, dict[str, t.Any]]:
    assert result.returncode == 0, result.stderr[-3000:]
    entries = rows_files(result)
    tables = [(d.id, x.id) for d in fake.workspace.docs for x in d.tables]
    assert sorted(entries) == sorted(table_id for _, table_id in tables)
    for doc_id, table_id in tables:
        path = Path(result.run_dir) / entries[table_id]["files"]["rows_json"]["path"]
        lines = path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == served(fake, doc_id, table_id)
    return entries


def test_rows_json_full_delta_and_carried(start_fake: StartFake, tmp_path: Path) -> None:
    ws = restore_workspace()
    with start_fake(ws) as fake:
        out = tmp_path / "out"
        first = check_all(fake, run_coda_backup("--rows-json", output=out, fake=fake))
        doc, tasks = ws.tagged("table.tasks")
        ws.edit_row(doc.id, tasks.id, tasks.rows[3].id, {"Task": "Edited", "Estimate": 3})
        ws.add_row(doc.id, tasks.id, {"Task": "New one", "Status": "Todo"})
        delta = run_coda_backup("--rows-json", "--incremental", output=out, fake=fake)
        entries = check_all(fake, delta)
        assert entries[tasks.id]["syncMode"] == "delta"
        _, spare = ws.tagged("table.copy")
        carried = entries[spare.id]["files"]["rows_json"]
        assert carried["source"] == first[spare.id]["files"]["rows_json"]["source"]
        assert carried["source"] != delta.latest
        ws.delete_row(doc.id, tasks.id, tasks.rows[0].id)
        full = run_coda_backup("--rows-json", "--incremental", output=out, fake=fake)
        assert check_all(fake, full)[tasks.id]["syncMode"] == "full"
