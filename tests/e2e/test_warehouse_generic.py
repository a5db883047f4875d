"""The generic streams in warehouses: flattening keeps open objects, every stream has a key.

Flattening (singer-sdk's `flattening_enabled`) used to drop `rows.values`, `columns.format`
and every nested object (declared with empty `properties`); target-duckdb's default
`primary_key_required` refused the key-less `failures` stream. Expectations come from the
fake's workspace.
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from collections import Counter
from pathlib import Path

import pytest

from fakecoda import FakeCoda
from fakecoda.typed import build_typed_workspace
from tests.e2e import tabletruth
from tests.e2e.tablestreams_run import TOKEN, discover, select, sync_args
from tests.e2e.warehouse import pg, pipe, table_rows, target_bin  # noqa: F401 - pg: fixture

if t.TYPE_CHECKING:
    from tests import pgserver
    from tests.fakes import StartFake


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    return start_module_fake(build_typed_workspace(rows=20), token=TOKEN, page_clamp=7)


def generic_tap(fake: FakeCoda, workdir: Path) -> list[str]:
    """The tap with the streams of docs/RECORDS.md's first table selected."""
    catalog = select(discover(fake, workdir, table_streams=False), tabletruth.GENERIC.__contains__)
    return sync_args(fake, workdir, catalog, table_streams=False)


def test_flattening_into_postgres_keeps_rows_values_and_column_formats(
    pg: pgserver.PgServer,  # noqa: F811 - the imported fixture
    fake: FakeCoda,
    tmp_path: Path,
) -> None:
    schema = "coda_flat"
    config = pg.target_config(
        default_target_schema=schema, flattening_enabled=True, flattening_max_depth=1
    )
    pipe(generic_tap(fake, tmp_path), target_bin("postgres", "target-postgres"), config,
         tmp_path, TOKEN)  # fmt: skip
    ws = fake.workspace
    rows = {(r["table_id"], r["id"]): r for r in table_rows(pg, schema, "rows")}
    assert len(rows) == sum(len(ws.rows_of(d, tb)) for d, tb in ws.iter_tables())
    for doc, table in ws.iter_tables():
        for row in ws.rows_of(doc, table):
            loaded = rows[table.id, row.id]
            served = ws.api_row(doc, table, row, "simpleWithArrays", base=fake.url)
            assert json.loads(loaded["values"]) == served["values"]
            assert loaded["table_type"] == table.table_type
    columns = table_rows(pg, schema, "columns")
    formats = {(c.id, tb.id): c.format for _, tb in ws.iter_tables() for c in tb.columns}
    assert columns
    for column in columns:
        got = json.loads(column["format"])
        assert got["type"] == formats[column["id"], column["table_id"]]["type"]


def test_target_duckdb_with_its_default_config_loads_every_generic_stream(
    fake: FakeCoda, tmp_path: Path
) -> None:
    target = target_bin("duckdb", "target-duckdb")
    database = tmp_path / "warehouse.duckdb"
    pipe(
        generic_tap(fake, tmp_path),
        target,
        {"filepath": str(database), "default_target_schema": "coda"},
        tmp_path,
        TOKEN,
    )
    script = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(json.dumps({'tables': sorted(r[0] for r in c.execute("
        "'select table_name from information_schema.tables').fetchall()), "
        ""
        "'rows': c.execute('select table_id, table_type, count(*) from coda.rows "
        "group by 1, 2').fetchall()}))"
    )
    done = subprocess.run(
        [str(target.parent / "python"), "-c", script, str(database)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    assert {"docs", "pages", "page_contents", "tables", "columns", "rows", "table_syncs"} <= set(
        loaded["tables"]
    )
    ws = fake.workspace
    truth = Counter({(tb.id, tb.table_type): len(ws.rows_of(d, tb)) for d, tb in ws.iter_tables()})
    assert Counter({(tid, kind): n for tid, kind, n in loaded["rows"]}) == +truth
