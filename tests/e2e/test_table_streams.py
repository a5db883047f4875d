"""`table_streams`: one typed stream per Coda table, from the real tap against the fake.

Expected names, ids and cells are computed from the fake's workspace (tests/e2e/tabletruth).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakecoda import FakeCoda
from fakecoda.typed import LONG_TEXT, build_typed_workspace
from tap_coda import sqlnames
from tests.e2e import tabletruth
from tests.e2e.tablestreams_run import (
    TOKEN,
    discover,
    root_metadata,
    select,
    sync,
    sync_args,
    table_stream_names,
)
from tests.e2e.warehouse import pipe, target_bin
from tests.fakes import StartFake


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    return start_module_fake(build_typed_workspace(), token=TOKEN, page_clamp=7)


def test_discovery_lists_one_named_stream_per_base_table_with_its_coda_ids(
    fake: FakeCoda, tmp_path: Path
) -> None:
    catalog = discover(fake, tmp_path)
    expected = tabletruth.base_tables(fake.workspace)
    assert table_stream_names(catalog) == set(expected)
    assert {"docs", "tables", "rows", "failures"} <= {e["stream"] for e in catalog["streams"]}
    for entry in catalog["streams"]:
        if entry["stream"] not in expected:
            continue
        doc, table = expected[entry["stream"]]
        assert sqlnames.is_valid(entry["stream"])
        root = root_metadata(entry)
        assert (root["coda-doc-id"], root["coda-table-id"]) == (doc.id, table.id)
        assert root["table-key-properties"] == ["_row_id"]
        columns = {
            tuple(m["breadcrumb"]): m["metadata"].get("coda-column-id")
            for m in entry["metadata"]
            if m["breadcrumb"]
        }
        names = sqlnames.property_names([{"id": c.id, "name": c.name} for c in table.columns])
        for column, name in zip(table.columns, names, strict=True):
            assert columns["properties", name] == column.id
        assert list(entry["schema"]["properties"])[: len(sqlnames.ROW_FIELDS)] == list(
            sqlnames.ROW_FIELDS
        )


def test_views_are_streams_only_on_request(fake: FakeCoda, tmp_path: Path) -> None:
    views = [tb for _, tb in fake.workspace.iter_tables() if tb.table_type == "view"]
    catalog = discover(fake, tmp_path, table_stream_views=True)
    ids = {root_metadata(e).get("coda-table-id") for e in catalog["streams"]}
    assert views
    assert {v.id for v in views} <= ids
    base = tabletruth.base_tables(fake.workspace)
    assert len(table_stream_names(catalog)) == len(base) + len(views)


def test_a_selected_table_alone_is_read_and_every_cell_is_its_typed_truth(
    fake: FakeCoda, tmp_path: Path
) -> None:
    ws = fake.workspace
    doc, tasks = ws.tagged("typed.tasks")
    name = tabletruth.stream_name_of(ws, doc, tasks)
    catalog = select(discover(fake, tmp_path), lambda s: s == name)
    start = len(fake.log)
    out, _ = sync(fake, tmp_path, catalog)
    rows_read = {e.path for e in fake.log[start:] if e.path.endswith("/rows")}
    assert rows_read == {f"/apis/v1/docs/{doc.id}/tables/{tasks.id}/rows"}
    assert set(out.records) == {name}
    records = {r["_row_id"]: r for r in out.of(name)}
    tabletruth.assert_table_matches(ws, doc, tasks, records.values())
    assert all(r["_unparsed"] is None for r in records.values())
    assert any(r["Notes"] == LONG_TEXT for r in records.values())
    assert any(r["Status"] is None for r in records.values())  # empty cells are null


def test_a_full_read_ends_with_activate_version(fake: FakeCoda, tmp_path: Path) -> None:
    doc, people = fake.workspace.tagged("typed.people")
    name = tabletruth.stream_name_of(fake.workspace, doc, people)
    catalog = select(discover(fake, tmp_path), lambda s: s == name)
    out, _ = sync(fake, tmp_path, catalog)
    kinds = [(m["type"], m.get("version")) for m in out.messages if m.get("stream") == name]
    versions = {v for k, v in kinds if k == "RECORD"}
    assert kinds[0][0] == "SCHEMA"
    assert kinds[-1][0] == "ACTIVATE_VERSION"
    assert versions == {kinds[-1][1]}


def test_target_jsonl_gets_every_table_as_typed_records(fake: FakeCoda, tmp_path: Path) -> None:
    target = target_bin("jsonl", "target-jsonl")
    catalog = discover(fake, tmp_path)
    catalog = select(catalog, table_stream_names(catalog).__contains__)
    out = tmp_path / "jsonl"
    pipe(
        sync_args(fake, tmp_path, catalog),
        target,
        {"destination_path": str(out), "do_timestamp_file": False},
        tmp_path,
        TOKEN,
    )
    ws = fake.workspace
    tables = [(d, tb) for d, tb in ws.iter_tables() if tb.table_type == "table"]
    for doc, table in tables:
        name = tabletruth.stream_name_of(ws, doc, table)
        path = out / f"{name}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        tabletruth.assert_table_matches(ws, doc, table, [json.loads(x) for x in lines])
