"""`meltano run tap-coda target-files` twice against the fake Coda API on loopback.

The repository's own meltano.yml is copied into a temporary project (its `pip_url`
pointed back at this checkout), installed with `meltano install`, and run; the second run
must be incremental from the state Meltano stored: no page export is started again.
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest
import yaml

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import REPO_ROOT, TOKEN, Result, clean_env, console_script
from tests.e2e.meltano_cli import ENVIRONMENT, STATE_ID, meltano
from tests.e2e.truth import Tree, check_run

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Meltano project made of this repository's meltano.yml, installing this checkout."""
    project = tmp_path / "project"
    project.mkdir()
    text = (REPO_ROOT / "meltano.yml").read_text(encoding="utf-8")
    assert "pip_url: -e ${MELTANO_PROJECT_ROOT}" in text
    text = text.replace("pip_url: -e ${MELTANO_PROJECT_ROOT}", f"pip_url: -e {REPO_ROOT}")
    (project / "meltano.yml").write_text(text, encoding="utf-8")
    return project


@pytest.mark.meltano
def test_meltano_run_twice_is_incremental(
    project: Path, start_fake: t.Callable[..., FakeCoda], tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "backups"
    env = clean_env(  # env vars win over meltano.yml: the URL is the fake's ephemeral port
        TAP_CODA_API_URL=fake.url,
        TAP_CODA_API_TOKEN=TOKEN,
        TARGET_FILES_OUTPUT_DIR=str(output),
    )
    env.pop("CODA_BACKUP_TAP_SETTINGS", None)  # coda-backup's knob; Meltano has its own
    meltano(project, "install", env=env, timeout=300)
    exportable = [p.id for d in ws.docs for p in d.pages if p.content_type == "canvas"]

    meltano(project, "--environment", ENVIRONMENT, "run", "tap-coda", "target-files", env=env)
    first = Result(0, "", "", output)
    assert first.summary()["status"] == "complete"
    assert first.summary()["pages_exported"] == len(exportable)
    assert fake.count(method="POST") == len(exportable)
    first_run = first.latest

    state = json.loads(
        meltano(project, "--environment", ENVIRONMENT, "state", "get", STATE_ID, env=env).stdout
    )
    bookmarks = state["singer_state"]["bookmarks"]
    assert len(bookmarks["page_contents"]["partitions"]) == len(exportable)
    assert all(p.get("sync_token") for p in bookmarks["rows"]["partitions"])

    fake.reset_log()
    meltano(project, "--environment", ENVIRONMENT, "run", "tap-coda", "target-files", env=env)
    second = Result(0, "", "", output)
    assert second.latest != first_run
    assert fake.count(method="POST") == 0  # nothing changed: no export started
    assert fake.count(path_re=r"/rows$") == 0  # and no rows read
    summary = second.summary()
    assert summary["status"] == "complete"
    assert summary["pages_skipped_unchanged"] == len(exportable)
    assert summary["tables_skipped_unchanged"] == sum(len(d.tables) for d in ws.docs)

    # The same guarantees as coda-backup: after edits, a complete snapshot of the new truth
    # that re-exported only the edited page and the page holding the edited table.
    doc = next(d for d in ws.docs if any(tb.table_type == "table" and tb.rows for tb in d.tables))
    table = next(tb for tb in doc.tables if tb.table_type == "table" and tb.rows)
    ws.edit_row(doc.id, table.id, table.rows[0].id, {table.columns[0].id: "edited in Meltano"})
    holders = {tb.parent_page_id for d in ws.docs for tb in d.tables}
    page_doc, page = next(
        (d, p)
        for d in ws.docs
        for p in d.pages
        if p.content_type == "canvas" and p.id not in holders
    )
    ws.edit_page(page_doc.id, page.id, markdown="# edited in Meltano\n")
    fake.reset_log()
    meltano(project, "--environment", ENVIRONMENT, "run", "tap-coda", "target-files", env=env)
    third = Result(0, "", "", output)
    exported = {e.path.split("/pages/")[1].split("/")[0] for e in fake.log if e.method == "POST"}
    changed_tables = {table.id} | {v.id for v in ws.views_of(doc, table)}
    assert exported == {page.id} | {
        tb.parent_page_id for tb in doc.tables if tb.id in changed_tables
    }
    owned = [d for d in ws.docs if d.listed and d.is_owner]
    check_run(Tree(third.run_dir, ws, fake.url), owned)


#: Settings singer-sdk adds to every plugin; meltano.yml declares only the plugin's own.
SDK_SETTINGS = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
    "add_record_metadata",
    "load_method",
    "batch_size_rows",
    "validate_records",
}
#: JSON-schema type -> the Meltano kinds that carry it faithfully.
KINDS = {
    "string": {"string", "options"},
    "boolean": {"boolean"},
    "integer": {"integer"},
    "number": {"decimal", "integer"},
    "array": {"array"},
}


@pytest.mark.parametrize(
    ("plugin_type", "name"), [("extractors", "tap-coda"), ("loaders", "target-files")]
)
def test_meltano_yml_declares_every_setting_with_its_kind(plugin_type: str, name: str) -> None:
    about = subprocess.run(
        [console_script(name), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    properties = json.loads(about.stdout)["settings"]["properties"]
    own = {key: spec for key, spec in properties.items() if key not in SDK_SETTINGS}
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    plugin = next(p for p in project["plugins"][plugin_type] if p["name"] == name)
    declared = {s["name"]: s for s in plugin["settings"]}
    assert set(declared) == set(own)
    for key, spec in own.items():
        json_type = next(t_ for t_ in spec["type"] if t_ != "null")
        assert declared[key]["kind"] in KINDS[json_type], key
        assert bool(declared[key].get("sensitive")) == bool(spec.get("secret")), key
    if name == "tap-coda":
        assert declared["api_token"]["sensitive"] is True
        assert plugin["select"] == ["*.*"]
        assert {"state", "catalog", "discover", "about", "stream-maps"} <= set(
            plugin["capabilities"]
        )
    assert project["send_anonymous_usage_stats"] is False
