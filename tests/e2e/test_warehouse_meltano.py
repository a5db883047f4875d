"""`meltano run tap-coda target-postgres` twice, with the fake's edits in between.

The second run starts from Meltano's own state: changed rows are updated in place, new
rows added, a deleted row marked `_sdc_deleted_at`, a new column present, and the tables
that did not change are not read (the fake's request log).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from fakecoda.typed import build_typed_workspace
from tests.e2e import tabletruth
from tests.e2e.backup_cli import REPO_ROOT, clean_env
from tests.e2e.meltano_cli import ENVIRONMENT, meltano
from tests.e2e.tablestreams_run import TOKEN
from tests.e2e.warehouse import pg, table_rows, target_bin  # noqa: F401 - pg: the fixture

if t.TYPE_CHECKING:
    from tests import pgserver
    from tests.fakes import StartFake

SCHEMA = "coda_meltano"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """This repository's meltano.yml, tap-coda installed from this checkout and
    target-postgres taken from `make targets` (no second install from the index)."""
    project = tmp_path / "project"
    project.mkdir()
    text = (REPO_ROOT / "meltano.yml").read_text(encoding="utf-8")
    text = text.replace("pip_url: -e ${MELTANO_PROJECT_ROOT}", f"pip_url: -e {REPO_ROOT}")
    loader = "    pip_url: meltanolabs-target-postgres==0.8.1\n    executable: target-postgres\n"
    assert loader in text
    target = target_bin("postgres", "target-postgres")
    text = text.replace(loader, f"    executable: {target}\n")
    (project / "meltano.yml").write_text(text, encoding="utf-8")
    return project


@pytest.mark.meltano
def test_meltano_run_twice_follows_coda_edits_from_meltanos_state(
    project: Path,
    pg: pgserver.PgServer,  # noqa: F811 - the imported fixture
    start_fake: StartFake,
) -> None:
    ws = build_typed_workspace(rows=30)
    fake = start_fake(ws, token=TOKEN, page_clamp=7)
    env = clean_env(
        TAP_CODA_API_URL=fake.url,
        TAP_CODA_API_TOKEN=TOKEN,
        TAP_CODA_TABLE_STREAMS="true",
        TAP_CODA__SELECT=json.dumps(["*__*.*"]),  # the table streams only
        **{f"TARGET_POSTGRES_{k.upper()}": str(v) for k, v in pg.target_config().items()},
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=SCHEMA,
    )
    env.pop("CODA_BACKUP_TAP_SETTINGS", None)
    meltano(project, "install", "--plugin-type", "extractor", "tap-coda", env=env, timeout=300)
    run = ("--environment", ENVIRONMENT, "run", "tap-coda", "target-postgres")
    meltano(project, *run, env=env, timeout=300)
    tables = {
        name: (doc, table)
        for doc, table in ws.iter_tables()
        if table.table_type == "table"
        for name in [tabletruth.stream_name_of(ws, doc, table)]
    }
    for name, (doc, table) in tables.items():
        tabletruth.assert_table_matches(ws, doc, table, table_rows(pg, SCHEMA, name))

    doc, tasks = ws.tagged("typed.tasks")
    sales, deals = ws.tagged("typed.deals")
    gone = tasks.rows[3].id
    ws.delete_row(doc.id, tasks.id, gone)
    priority = ws.add_column(doc.id, tasks.id, "Priority", {"type": "number", "isArray": False})
    ws.edit_row(doc.id, tasks.id, tasks.rows[0].id, {priority.id: 2, "Status": "Done"})
    ws.edit_row(sales.id, deals.id, deals.rows[1].id, {"Amount": "€123,456"})
    added = ws.add_row(sales.id, deals.id, {"Deal": "New deal", "Amount": "€9"})
    fake.reset_log()
    meltano(project, *run, env=env, timeout=300)

    rows_read = {e.path.split("/tables/")[1].split("/")[0] for e in fake.log if "/rows" in e.path}
    assert rows_read == {tasks.id, deals.id}  # People and the empty Risks: not read
    for name, (d, table) in tables.items():
        loaded = table_rows(pg, SCHEMA, name)
        live = [r for r in loaded if r["_sdc_deleted_at"] is None]
        tabletruth.assert_table_matches(ws, d, table, live)
        if table.id == tasks.id:
            assert {r["_row_id"] for r in loaded if r["_sdc_deleted_at"]} == {gone}
            assert "Priority" in loaded[0]
        if table.id == deals.id:
            assert added.id in {r["_row_id"] for r in live}
