"""Incremental backups, proven against a fresh full run.

Each scenario: a full run (`tap-coda | target-files` through real pipes), a change to the
fake's workspace, an incremental run from the STATE the target printed, then a fresh full
run of the changed workspace into another output folder. The two newest run folders must
be the same tree, byte for byte, apart from what names a run (ids, timestamps, where each
file was carried from and the counters of what was skipped). The request log proves the
savings: nothing re-exported or re-read that did not change.

Speed: every scenario starts from one baseline full run (made once per module by the real
pipeline, against an identical workspace served on the same port) whose output folder is
copied. Fake workspaces are deterministic, and so are its sync tokens, so the baseline's
state is exactly what a full run of the scenario's own fake would have printed.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import time
import typing as t
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakecoda import FakeCoda, Fault, Workspace
from fakecoda.builders import BUILD_START, TEXT, Builder, fmt, select
from fakecoda.workspace import FakeClock
from tests.e2e.backup_cli import run_coda_backup
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, PipeResult, run_pipe

if t.TYPE_CHECKING:
    from fakecoda import Doc, LogEntry, Page

TOKEN = "tok-INCR-sEcReT-51d0ce2a"
FORMATS = ["markdown"]


# -- a small workspace: everything pages and paginates (3 items a page), quickly ---------


def small_workspace() -> Workspace:
    """Two docs: nested pages, a page that cannot export, a hidden page, three tables
    and a view (on another page than its base table), rows spread over several pages."""
    ws = Workspace(
        docs=[],
        user={
            "name": "Test User",
            "loginId": "test.user@example.com",
            "tokenName": "tap-coda",
            "scoped": False,
            "pictureLink": "https://cdn.coda.io/avatars/default_avatar.png",
            "workspace": {
                "id": "ws-AcmeCorp1",
                "type": "workspace",
                "browserLink": "https://coda.io/docs?workspaceId=ws-AcmeCorp1",
                "name": "Acme Corp",
            },
        },
        clock=FakeClock(BUILD_START, timedelta(seconds=1)),
    )
    b = Builder(ws, random.Random(7))
    launch = b.doc("Launch", tag="doc.launch")
    status = b.page(launch, "Status", tag="page.status")
    timeline = b.page(launch, "Timeline", status, tag="page.timeline")
    b.page(launch, "Q3", timeline, tag="page.q3")
    board = b.page(launch, "Board", tag="page.board")
    b.page(launch, "Notes", tag="page.notes")
    b.page(launch, "Figma", content_type="embed", markdown="", tag="page.embed")
    team = b.page(launch, "Team", tag="page.team")
    b.page(launch, "Roles", team, tag="page.roles")
    states = ["Todo", "Doing", "Done"]
    tasks = b.table(
        launch,
        "Tasks",
        status,
        [
            ("Task", TEXT),
            ("Status", select(*states)),
            ("Estimate", fmt("number", precision=1)),
            ("Labels", select("web", "api", "docs", is_array=True)),
        ],
        [
            {
                "Task": f'Task {i}, part "{i}"',
                "Status": states[i % 3],
                "Estimate": [0.5, 1, 2.5, 8][i % 4],
                "Labels": ["web", "api", "docs"][: 1 + i % 3],
            }
            for i in range(8)
        ],
        tag="table.tasks",
    )
    b.view(
        launch,
        "Open Tasks",
        tasks,
        board,
        view_filter={"column": tasks.columns[1].id, "not_equal": "Done"},
        tag="view.open",
    )
    b.table(
        launch,
        "People",
        team,
        [("Name", TEXT), ("Email", fmt("email"))],
        [{"Name": n, "Email": f"{n.lower()}@acme.example"} for n in ("Ann", "Bo", "Cy", "Di")],
        tag="table.people",
    )
    wiki = b.doc("Wiki", tag="doc.wiki")
    onboarding = b.page(wiki, "Onboarding", tag="page.onboarding")
    b.page(wiki, "First Week", onboarding)
    glossary = b.page(wiki, "Glossary", tag="page.glossary")
    b.page(wiki, "Drafts", hidden=True)
    b.table(
        wiki,
        "Glossary",
        glossary,
        [("Term", TEXT), ("Meaning", TEXT)],
        [
            {"Term": "SLO", "Meaning": "Service level objective"},
            {"Term": "RFC", "Meaning": "Request for comments"},
            {"Term": "P0", "Meaning": "Drop everything\nfix it now"},
            {"Term": "ETA", "Meaning": "Estimated time of arrival"},
        ],
        tag="table.glossary",
    )
    return b.finish()


def obj(ws: Workspace, tag: str) -> t.Any:
    return ws.tagged(tag)[1]


def doc_of(ws: Workspace, tag: str) -> str:
    return ws.tagged(tag)[0].id


# -- scenarios: a change, and the table_syncs mode the tap must report for each table it
# -- touches (every other table: `unchanged`) -----------------------------------------------

Modes = dict[str, str]


def nothing(ws: Workspace) -> Modes:
    return {}


def edit_page(ws: Workspace) -> Modes:
    page = obj(ws, "page.notes")
    ws.edit_page(doc_of(ws, "page.notes"), page.id, markdown="# Notes\n\nRewritten.\n")
    return {}


def edit_two_pages(ws: Workspace) -> Modes:
    for tag in ("page.notes", "page.q3"):
        ws.edit_page(doc_of(ws, tag), obj(ws, tag).id, markdown=f"# {tag}\n\nEdited.\n")
    return {}


def edit_row(ws: Workspace) -> Modes:
    tasks = obj(ws, "table.tasks")
    for i in (1, 4, 5, 7):  # four rows: the delta itself spans two pages
        values = {"Status": "Done", "Estimate": 3, "Labels": ["docs", "web"]}
        ws.edit_row(doc_of(ws, "table.tasks"), tasks.id, tasks.rows[i].id, values)
    # views are never deltas: rows entering or leaving a filter are not "changed" rows
    return {tasks.id: "delta", obj(ws, "view.open").id: "full"}


def add_row(ws: Workspace) -> Modes:
    tasks = obj(ws, "table.tasks")
    ws.add_row(doc_of(ws, "table.tasks"), tasks.id, {"Task": "New, late", "Status": "Todo"})
    return {tasks.id: "delta", obj(ws, "view.open").id: "full"}


def delete_row(ws: Workspace) -> Modes:
    tasks = obj(ws, "table.tasks")
    ws.delete_row(doc_of(ws, "table.tasks"), tasks.id, tasks.rows[2].id)
    return {tasks.id: "full", obj(ws, "view.open").id: "full"}


def add_column(ws: Workspace) -> Modes:
    tasks = obj(ws, "table.tasks")
    ws.add_column(doc_of(ws, "table.tasks"), tasks.id, "Risk")
    return {tasks.id: "full", obj(ws, "view.open").id: "full"}


def add_page(ws: Workspace) -> Modes:
    ws.add_page(doc_of(ws, "page.q3"), "Week 1", obj(ws, "page.q3").id, "# Week 1\n\nKickoff.\n")
    return {}


def delete_page(ws: Workspace) -> Modes:
    # the page, its subpage and the table on it go
    ws.delete_page(doc_of(ws, "page.team"), obj(ws, "page.team").id)
    return {}


def delete_page_with_view_elsewhere(ws: Workspace) -> Modes:
    # Status goes with its subpages and its table; the table's view on Board goes too
    ws.delete_page(doc_of(ws, "page.status"), obj(ws, "page.status").id)
    return {}


def rename_page(ws: Workspace) -> Modes:
    # a page holding a table and two levels of subpages: folders and table files move
    ws.rename_page(doc_of(ws, "page.status"), obj(ws, "page.status").id, "Launch Status")
    # its rows' browserLinks carry the page's name: they must be read again
    return {obj(ws, "table.tasks").id: "full"}


def add_table(ws: Workspace) -> Modes:
    table = ws.add_table(
        doc_of(ws, "page.notes"),
        "Decisions",
        obj(ws, "page.notes").id,
        ["Decision", "Why"],
        [{"Decision": f"D{i}", "Why": f"because {i}"} for i in range(5)],
    )
    return {table.id: "full"}


def delete_table(ws: Workspace) -> Modes:
    # a base table with a view on another page: both go, both pages change
    ws.delete_table(doc_of(ws, "table.tasks"), obj(ws, "table.tasks").id)
    return {}


def rename_table(ws: Workspace) -> Modes:
    people = obj(ws, "table.people")
    ws.rename_table(doc_of(ws, "table.people"), people.id, "Crew")
    return {people.id: "delta"}


def view_filter(ws: Workspace) -> Modes:
    view, tasks = obj(ws, "view.open"), obj(ws, "table.tasks")
    ws.set_view_filter(
        doc_of(ws, "view.open"), view.id, {"column": tasks.columns[1].id, "equal": "Done"}
    )
    return {view.id: "full"}


def refused_token(ws: Workspace) -> Modes:
    glossary = obj(ws, "table.glossary")
    ws.edit_row(doc_of(ws, "table.glossary"), glossary.id, glossary.rows[0].id, {"Term": "SLA"})
    ws.expire_sync_tokens()
    return {glossary.id: "full"}  # the delta is refused (400): read in full


def table_on_page(ws: Workspace) -> Modes:
    glossary = obj(ws, "table.glossary")
    ws.edit_row(
        doc_of(ws, "table.glossary"), glossary.id, glossary.rows[1].id, {"Meaning": "Proposal"}
    )
    return {glossary.id: "delta"}


SCENARIOS: dict[str, t.Callable[[Workspace], Modes]] = {
    f.__name__: f
    for f in (
        nothing,
        edit_page,
        edit_two_pages,
        edit_row,
        add_row,
        delete_row,
        add_column,
        add_page,
        delete_page,
        delete_page_with_view_elsewhere,
        rename_page,
        add_table,
        delete_table,
        rename_table,
        view_filter,
        refused_token,
        table_on_page,
    )
}


# -- running ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(start: StartFake, ws: Workspace, port: int) -> FakeCoda:
    """`ws` at a fixed port: a run's state and tree embed the API URL, so the incremental
    run must see the baseline's."""
    return start(ws, token=TOKEN, page_clamp=3, port=port)


def tap_config(fake: FakeCoda) -> dict[str, t.Any]:
    return {"api_url": fake.url, **FAST_TAP, "page_formats": FORMATS}


def backup(
    fake: FakeCoda,
    output: Path,
    workdir: Path,
    state: dict[str, t.Any] | None = None,
    *,
    tee: bool = False,
) -> PipeResult:
    target = {"output_dir": str(output), "fsync": False}
    return run_pipe(tap_config(fake), target, workdir, token=TOKEN, state=state, tee=tee).check()


def latest_run(output: Path) -> Path:
    name = (output / "latest.txt").read_text(encoding="utf-8").strip()
    assert (output / "latest").resolve() == (output / name).resolve()
    return output / name


@dataclass
class Baseline:
    port: int
    output: Path
    state: dict[str, t.Any]


@pytest.fixture(scope="module")
def baseline(start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    root = tmp_path_factory.mktemp("baseline")
    port = free_port()
    with serve(start_module_fake, small_workspace(), port) as fake:
        result = backup(fake, root / "backups", root / "work", tee=True)
    assert result.tap_output is not None
    syncs = result.tap_output.of("table_syncs")
    assert syncs and {s["mode"] for s in syncs} == {"full"}
    state = result.final_state
    assert state, "target-files printed no STATE"
    return Baseline(port, root / "backups", state)


# -- comparing two run folders ------------------------------------------------------------

#: What names a run, or says how it was made rather than what it holds (a file's mtime).
RUN_KEYS = {
    "run_id",
    "started_at",
    "finished_at",
    "created_at",
    "previous_run",
    "source",
    "mtime_ns",
}
#: summary.json counters of work done (a skip in one run is an export in the other).
WORK_COUNTERS = {
    "pages_exported",
    "pages_skipped_unchanged",
    "tables_exported",
    "views_exported",
    "tables_skipped_unchanged",
    "rows_written",
    "files_carried",
}


def normalized(value: t.Any) -> t.Any:
    """A manifest/summary without run names and with `unchanged` counted as exported."""
    if isinstance(value, dict):
        return {
            k: "exported" if k == "status" and v == "unchanged" else normalized(v)
            for k, v in value.items()
            if k not in RUN_KEYS and k != "syncMode"
        }
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def normalized_summary(summary: dict[str, t.Any]) -> dict[str, t.Any]:
    out = normalized({k: v for k, v in summary.items() if k not in WORK_COUNTERS})
    out["pages"] = summary["pages_exported"] + summary["pages_skipped_unchanged"]
    out["tables_and_views"] = (
        summary["tables_exported"] + summary["views_exported"] + summary["tables_skipped_unchanged"]
    )
    return out


def files_of(run: Path) -> dict[str, Path]:
    return {p.relative_to(run).as_posix(): p for p in sorted(run.rglob("*")) if p.is_file()}


def assert_same_tree(incremental: Path, fresh: Path) -> None:
    got, want = files_of(incremental), files_of(fresh)
    assert sorted(got) == sorted(want), "the two runs hold different files"
    for rel, path in got.items():
        if rel == "index.html":
            continue  # the run's page: its name, its work counters, what changed since latest
        if rel == "summary.json":
            a = normalized_summary(json.loads(path.read_bytes()))
            b = normalized_summary(json.loads(want[rel].read_bytes()))
        elif rel == "manifest.json":  # summary.json's digest: compared as summaries above
            a = normalized(json.loads(path.read_bytes()))
            b = normalized(json.loads(want[rel].read_bytes()))
            for own in ("summary.json", "index.html"):
                a["files"].pop(own)
                b["files"].pop(own)
        else:
            a, b = path.read_bytes(), want[rel].read_bytes()
        assert a == b, f"{rel} differs between the incremental and the fresh full run"


# -- the ground truth of what must be re-exported ----------------------------------------------


def canvas_pages(ws: Workspace) -> dict[tuple[str, str], tuple[Doc, Page]]:
    return {
        (d.id, p.id): (d, p)
        for d in ws.docs
        if d.listed and d.is_owner
        for p in d.pages
        if p.content_type == "canvas" and not p.export_fails
    }


def page_facts(ws: Workspace) -> dict[tuple[str, str], tuple[str, str]]:
    """Per exportable page: its updatedAt and what an export yields now."""
    return {
        key: (page.updated_at, ws.export_content(doc, page, "markdown"))
        for key, (doc, page) in canvas_pages(ws).items()
    }


def export_posts(log: list[LogEntry]) -> list[tuple[str, str]]:
    """(doc id, page id) of each export started."""
    out = []
    for entry in log:
        parts = entry.path.split("/")
        if entry.method == "POST" and parts[-1] == "export":
            out.append((parts[-4], parts[-2]))
    return out


def rows_requests(log: list[LogEntry]) -> list[LogEntry]:
    return [e for e in log if e.method == "GET" and e.path.endswith("/rows")]


# -- the scenarios ------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_incremental_run_equals_a_fresh_full_run(
    start_fake: StartFake, scenario: str, baseline: Baseline, tmp_path: Path
) -> None:
    ws = small_workspace()
    with serve(start_fake, ws, baseline.port) as fake:
        output = tmp_path / "incremental"
        shutil.copytree(baseline.output, output, symlinks=True)
        before = page_facts(ws)
        rows_before = {
            tb.id: {r.id: r.updated_at for r in ws.rows_of(d, tb)} for d, tb in ws.iter_tables()
        }
        expected_modes = SCENARIOS[scenario](ws)
        after = page_facts(ws)

        fake.reset_log()
        inc = backup(fake, output, tmp_path / "w-inc", baseline.state, tee=True)
        log = list(fake.log)
        fresh_output = tmp_path / "fresh"
        backup(fake, fresh_output, tmp_path / "w-fresh")

    # 1. the incremental run folder is the fresh full run's, file for file
    runs = sorted(p.name for p in output.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 2
    new_run = latest_run(output)
    assert new_run.name != latest_run(baseline.output).name
    assert_same_tree(new_run, latest_run(fresh_output))
    assert json.loads((new_run / "manifest.json").read_bytes())["previous_run"] == (
        latest_run(baseline.output).name
    )

    # 2. each table's rows were read as the change requires, and no more
    assert inc.tap_output is not None
    syncs = {s["table_id"]: s for s in inc.tap_output.of("table_syncs")}
    assert set(syncs) == {tb.id for _, tb in ws.iter_tables()}
    for table_id, sync in syncs.items():
        assert sync["mode"] == expected_modes.get(table_id, "unchanged"), (table_id, sync)
        if sync["mode"] == "unchanged":
            assert sync["rows_emitted"] == 0
        if sync["mode"] == "delta":  # only the rows added or edited since
            doc, table = ws.find(table_id)
            old = rows_before.get(table_id, {})
            edited = [r for r in ws.rows_of(doc, table) if old.get(r.id) != r.updated_at]
            assert sync["rows_emitted"] == len(edited)
    read = {e.path.split("/")[-2] for e in rows_requests(log)}
    assert read == {tid for tid, s in syncs.items() if s["mode"] != "unchanged"}

    # 3. exactly the pages that changed, or that hold a table read again, were exported
    changed = {k for k in after if before.get(k) != after[k]}
    table_pages = {
        (d.id, tb.parent_page_id)
        for d, tb in ws.iter_tables()
        if syncs[tb.id]["mode"] in ("delta", "full")
    }
    posts = export_posts(log)
    assert set(Counter(posts).values()) <= {len(FORMATS)}, "a page was exported twice"
    assert set(posts) == (changed | table_pages) & set(after)
    contents = inc.tap_output.of("page_contents")
    assert sorted((r["doc_id"], r["page_id"]) for r in contents) == sorted(posts)

    if scenario == "nothing":
        assert posts == [] and rows_requests(log) == []
    if scenario == "edit_two_pages":
        assert len(posts) == 2 * len(FORMATS)
    if scenario == "table_on_page":  # re-exported although its updatedAt did not move
        key = (doc_of(ws, "page.glossary"), obj(ws, "page.glossary").id)
        assert posts == [key] * len(FORMATS)
        assert before[key][0] == after[key][0] and before[key][1] != after[key][1]
    if scenario == "edit_row":  # the delta of four rows came in two pages, token first
        tasks = [e for e in rows_requests(log) if obj(ws, "table.tasks").id in e.path]
        assert ["syncToken" in e.query for e in tasks] == [True, False]
        assert "pageToken" in tasks[1].query
    if scenario == "refused_token":
        refused = [e for e in rows_requests(log) if "syncToken" in e.query]
        assert [e.status for e in refused] == [400]


def test_state_of_another_output_folder_means_a_full_run(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """coda-backup --incremental with a state.json copied from another backup folder: the
    state belongs to no run of this folder, so the run is a full one, said in one line."""
    ws = small_workspace()
    with serve(start_fake, ws, free_port()) as fake:
        elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
        first = run_coda_backup(output=elsewhere, fake=fake, token=TOKEN)
        assert first.returncode == 0, first.stderr  # the embed page cannot export: a skip
        # a run of another folder at another time (run folders are named by the second)
        second_of_first = datetime.strptime(first.latest or "", "%Y-%m-%dT%H%M%SZ")
        while datetime.now(timezone.utc).replace(tzinfo=None) < second_of_first + timedelta(
            seconds=1
        ):
            time.sleep(0.05)
        own = run_coda_backup(output=here, fake=fake, token=TOKEN)
        assert own.returncode == 0, own.stderr
        assert own.latest != first.latest
        shutil.copyfile(elsewhere / "state.json", here / "state.json")
        ws.edit_page(doc_of(ws, "page.notes"), obj(ws, "page.notes").id, markdown="Changed.\n")

        fake.reset_log()
        result = run_coda_backup("--incremental", output=here, fake=fake, token=TOKEN)
        log = list(fake.log)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "full run" in line]
    assert len(notes) == 1, result.stderr
    assert "state.json" in notes[0]
    assert "Traceback" not in result.stderr
    assert sorted(export_posts(log)) == sorted(canvas_pages(ws))
    summary = result.summary()
    assert summary["pages_skipped_unchanged"] == summary["tables_skipped_unchanged"] == 0
    modes = {x["syncMode"] for d in result.manifest()["docs"] for x in d["tables"]}
    assert modes == {"full"}
    saved = json.loads((here / "state.json").read_text(encoding="utf-8"))
    assert saved["run_id"] == result.latest  # the state is this folder's own again


def test_incremental_runs_chain_on_the_state_each_one_prints(
    start_fake: StartFake, baseline: Baseline, tmp_path: Path
) -> None:
    """The state an incremental run prints is whole: the next run builds on it (its sync
    tokens, its page bookmarks), not on the full run before it."""
    ws = small_workspace()
    tasks = obj(ws, "table.tasks")
    with serve(start_fake, ws, baseline.port) as fake:
        output = tmp_path / "chain"
        shutil.copytree(baseline.output, output, symlinks=True)
        edit_row(ws)
        first = backup(fake, output, tmp_path / "w1", baseline.state)
        ws.add_row(
            doc_of(ws, "table.tasks"), tasks.id, {"Task": "After the first", "Status": "Done"}
        )
        fake.reset_log()
        second = backup(fake, output, tmp_path / "w2", first.final_state, tee=True)
        assert second.tap_output is not None
        syncs = {s["table_id"]: s for s in second.tap_output.of("table_syncs")}
        assert (syncs[tasks.id]["mode"], syncs[tasks.id]["rows_emitted"]) == ("delta", 1)
        # the pages holding the table and its view, nothing else
        assert sorted(export_posts(fake.log)) == sorted(
            (doc_of(ws, tag), obj(ws, tag).id)
            for tag in ("page.status", "page.board")
            for _ in FORMATS
        )
        fake.reset_log()
        third = backup(fake, output, tmp_path / "w3", second.final_state)
        assert export_posts(fake.log) == [] and rows_requests(fake.log) == []
        fresh = tmp_path / "fresh"
        backup(fake, fresh, tmp_path / "w-fresh")
    assert third.final_state
    assert len([p for p in output.iterdir() if p.is_dir() and not p.is_symlink()]) == 4
    assert_same_tree(latest_run(output), latest_run(fresh))


def test_a_changed_tables_page_is_exported_ahead_and_dropped_if_its_rows_fail(
    start_fake: StartFake, baseline: Baseline, tmp_path: Path
) -> None:
    """The export of a page holding a changed table starts as soon as the table's
    `getTable` shows the change, before its rows are read (tap_coda/pipeline.py). Here the
    rows then cannot be read: the export happened all the same, which proves it started
    ahead, and its content is dropped, so the page keeps its earlier copy."""
    ws = small_workspace()
    table_on_page(ws)
    glossary = obj(ws, "table.glossary")
    page_key = (doc_of(ws, "page.glossary"), obj(ws, "page.glossary").id)
    fault = Fault("status", path_re=f"/tables/{glossary.id}/rows", method="GET", status=403)
    output = tmp_path / "incremental"
    shutil.copytree(baseline.output, output, symlinks=True)
    with start_fake(ws, token=TOKEN, page_clamp=3, faults=[fault], port=baseline.port) as fake:
        target = {"output_dir": str(output), "fsync": False}
        result = run_pipe(
            tap_config(fake), target, tmp_path / "w", token=TOKEN, state=baseline.state, tee=True
        )
        log = list(fake.log)
    assert result.tap_returncode == 0 and result.target_returncode == 0, result.tap_stderr
    assert result.tap_output is not None
    (sync,) = [s for s in result.tap_output.of("table_syncs") if s["table_id"] == glossary.id]
    assert sync["mode"] == "failed"
    assert all(e.status == 403 for e in rows_requests(log) if glossary.id in e.path)
    assert export_posts(log) == [page_key] * len(FORMATS)  # started ahead, nothing else
    assert result.tap_output.of("page_contents") == []  # ... and its content dropped
    new_run, old_run = latest_run(output), latest_run(baseline.output)
    assert new_run != old_run
    new_pages = {p.relative_to(new_run): p for p in new_run.rglob("*.md")}
    assert new_pages
    for rel, path in new_pages.items():
        assert path.read_bytes() == (old_run / rel).read_bytes(), rel
