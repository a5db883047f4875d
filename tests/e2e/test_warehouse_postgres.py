"""The table streams in a real PostgreSQL, loaded by meltanolabs-target-postgres.

A throwaway server (tests/pgserver.py) per module; the tap and the target run as their
console scripts through a real pipe, then through `meltano run` with Meltano's state.
Every expectation comes from the fake's workspace (tests/e2e/tabletruth.py).
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from collections import Counter
from pathlib import Path

import pytest
from psycopg import sql

from fakecoda import FakeCoda
from fakecoda.typed import build_typed_workspace
from tap_coda import cells, sqlnames
from tests.e2e import tabletruth
from tests.e2e.tablestreams_run import TOKEN, discover, select, sync_args, table_stream_names
from tests.e2e.warehouse import pg, pipe, query, table_rows, target_bin  # noqa: F401 - pg: fixture
from tests.fakes import StartFake
from tests.helpers import SingerOutput, child_env

if t.TYPE_CHECKING:
    from tests import pgserver

#: What target-postgres makes of each kind of property (tap_coda.cells).
PG_TYPES = {
    "number": "numeric",
    "boolean": "boolean",
    "date": "date",
    "date-time": "timestamp without time zone",
    "time": "time without time zone",
    "object": "jsonb",
    "string": "text",
}


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    return start_module_fake(build_typed_workspace(), token=TOKEN, page_clamp=7)


def test_a_pipe_loads_one_typed_table_per_coda_table_equal_to_the_truth(
    pg: pgserver.PgServer,  # noqa: F811 - the imported fixture
    fake: FakeCoda,
    tmp_path: Path,
) -> None:
    target = target_bin("postgres", "target-postgres")
    schema = "coda_pipe"
    catalog = discover(fake, tmp_path)
    catalog = select(catalog, table_stream_names(catalog).__contains__)
    pipe(
        sync_args(fake, tmp_path, catalog),
        target,
        pg.target_config(default_target_schema=schema),
        tmp_path,
        TOKEN,
    )
    expected = tabletruth.base_tables(fake.workspace)
    loaded = query(
        pg, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", schema
    )
    assert {r["table_name"] for r in loaded} == set(expected)
    ws = fake.workspace
    for name, (doc, table) in expected.items():
        columns = query(
            pg,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            schema,
            name,
        )
        types = {c["column_name"]: c["data_type"] for c in columns}
        props = sqlnames.property_names([{"id": c.id, "name": c.name} for c in table.columns])
        for column, prop in zip(table.columns, props, strict=True):
            kind = "array" if column.format.get("isArray") else cells.kind_of(column.format)
            assert types[prop] == PG_TYPES.get(kind, "jsonb"), (name, prop)
        tabletruth.assert_table_matches(ws, doc, table, table_rows(pg, schema, name))

    doc, tasks = ws.tagged("typed.tasks")
    by_status = query(
        pg,
        sql.SQL('SELECT "Status", count(*) AS n FROM {} GROUP BY 1').format(
            sql.Identifier(schema, tabletruth.stream_name_of(ws, doc, tasks))
        ),
    )
    status = next(c.id for c in tasks.columns if c.name == "Status")
    truth = Counter(row.values.get(status) or None for row in ws.rows_of(doc, tasks))
    assert {r["Status"]: r["n"] for r in by_status} == dict(truth)


def test_a_column_deleted_in_coda_stops_being_sent_and_the_load_goes_on(
    pg: pgserver.PgServer,  # noqa: F811 - the imported fixture
    start_fake: StartFake,
    tmp_path: Path,
) -> None:
    ws = build_typed_workspace(rows=12)
    fake = start_fake(ws, token=TOKEN, page_clamp=7)
    doc, tasks = ws.tagged("typed.tasks")
    name = tabletruth.stream_name_of(ws, doc, tasks)
    target, schema = target_bin("postgres", "target-postgres"), "coda_dropped"
    config = pg.target_config(default_target_schema=schema)
    done, _ = pipe(sync_args(fake, tmp_path, select(discover(fake, tmp_path), {name}.__contains__)),
                   target, config, tmp_path, TOKEN)  # fmt: skip
    state = json.loads(done.stdout.strip().splitlines()[-1])
    estimate = next(c for c in tasks.columns if c.name == "Estimate")
    before = {r["_row_id"]: r["Estimate"] for r in table_rows(pg, schema, name)}
    assert any(v is not None for v in before.values())

    ws.delete_column(doc.id, tasks.id, estimate.id)
    added = ws.add_row(doc.id, tasks.id, {"Task": "Added after the deletion"})
    args = sync_args(fake, tmp_path, select(discover(fake, tmp_path), {name}.__contains__), state)
    out = subprocess.run(args, capture_output=True, text=True, env=child_env(TOKEN), check=True)
    sent = SingerOutput.parse(out.stdout)
    schemas = [m["schema"] for m in sent.messages if m["type"] == "SCHEMA" and m["stream"] == name]
    assert schemas and all("Estimate" not in s["properties"] for s in schemas)
    assert "Task" in schemas[0]["properties"]
    assert sent.of(name) and all("Estimate" not in r for r in sent.of(name))
    tabletruth.assert_table_matches(ws, doc, tasks, sent.of(name))

    pipe(args, target, config, tmp_path, TOKEN)
    loaded = {r["_row_id"]: r for r in table_rows(pg, schema, name)}
    tabletruth.assert_table_matches(ws, doc, tasks, loaded.values())
    assert loaded[added.id]["Estimate"] is None  # the old column stays; new rows leave it NULL
    assert {i: loaded[i]["Estimate"] for i in before} == before  # older rows keep their last value


@pytest.mark.parametrize("flattening", [False, True], ids=["plain", "flattened"])
def test_a_value_that_does_not_fit_its_column_is_kept_as_text_and_reported(
    pg: pgserver.PgServer,  # noqa: F811 - the imported fixture
    start_fake: StartFake,
    tmp_path: Path,
    flattening: bool,
) -> None:
    ws = build_typed_workspace(rows=6)
    doc, tasks = ws.tagged("typed.tasks")
    odd = ws.edit_row(doc.id, tasks.id, tasks.rows[1].id, {"Estimate": "about 3 days"})
    fake = start_fake(ws, token=TOKEN, page_clamp=7)
    name = tabletruth.stream_name_of(ws, doc, tasks)
    schema = f"coda_unfit_{'flat' if flattening else 'plain'}"
    extra = {"flattening_enabled": True, "flattening_max_depth": 1} if flattening else {}
    _, tap_stderr = pipe(
        sync_args(fake, tmp_path, select(discover(fake, tmp_path), {name}.__contains__)),
        target_bin("postgres", "target-postgres"),
        pg.target_config(default_target_schema=schema, **extra),
        tmp_path,
        TOKEN,
    )
    assert "value(s) of column 'Estimate' do not fit its type" in tap_stderr
    loaded = {r["_row_id"]: r for r in table_rows(pg, schema, name)}
    assert loaded[odd.id]["Estimate"] is None
    unparsed = loaded[odd.id][sqlnames.UNPARSED]
    assert (json.loads(unparsed) if isinstance(unparsed, str) else unparsed) == {
        "Estimate": "about 3 days"
    }
    assert all(r[sqlnames.UNPARSED] is None for i, r in loaded.items() if i != odd.id)
