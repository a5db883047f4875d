"""The table streams in a real PostgreSQL, loaded by meltanolabs-target-postgres.

A throwaway server (tests/pgserver.py) per module; the tap and the target run as their
console scripts through a real pipe, then through `meltano run` with Meltano's state.
Every expectation comes from the fake's workspace (tests/e2e/tabletruth.py).
"""

from __future__ import annotations

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
