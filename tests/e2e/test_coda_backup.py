"""coda-backup end to end: the real `coda-backup`, `tap-coda` and `target-files` processes
against the fake Coda API over real HTTP on 127.0.0.1.

Expected values come from the fake's workspace (its docs, pages, tables and their flags),
never from hard-coded counts, so the tests follow the workspace when it grows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from fakecoda import (
    FakeCoda,
    Fault,
    build_demo_workspace,
    build_test_workspace,
)
from tests.e2e.backup_cli import (
    FAST_TAP_SETTINGS,
    TOKEN,
    Result,
    clean_env,
    console_script,
    run_coda_backup,
)
from tests.e2e.tree import acl_skips

if t.TYPE_CHECKING:
    from fakecoda import Doc, LogEntry, Workspace

StartFake = t.Callable[..., FakeCoda]

# -- what the workspace says a run must contain ---------------------------------------------


def listed_docs(
    ws: Workspace, *, include_shared: bool = False, workspace_id: str | None = None
) -> list[Doc]:
    """What `GET /docs` returns for the tap's query (never-opened docs are not listed)."""
    return [
        d
        for d in ws.docs
        if d.listed
        and (include_shared or d.is_owner)
        and (workspace_id is None or d.workspace_id == workspace_id)
    ]


def readable(docs: list[Doc]) -> list[Doc]:
    """Docs whose content the API serves (over-size docs only have metadata)."""
    return [d for d in docs if not d.over_api_size_limit]


def expected_failures(docs: list[Doc]) -> set[tuple[str, str]]:
    """(object_type, object_id) of everything that cannot be backed up."""
    failures = set()
    for doc in docs:
        if doc.over_api_size_limit:
            failures.add(("doc", doc.id))
            continue
        for page in doc.pages:
            if page.content_type != "canvas" or page.export_fails:
                failures.add(("page_content", page.id))
    return failures | acl_skips(docs)


def exportable_pages(docs: list[Doc]) -> list[str]:
    """Pages an export is started for (canvas pages; one of them fails on Coda's side)."""
    return [p.id for d in readable(docs) for p in d.pages if p.content_type == "canvas"]


def manifest_docs(result: Result) -> dict[str, dict[str, t.Any]]:
    return {doc["id"]: doc for doc in result.manifest()["docs"]}


def manifest_pages(result: Result) -> dict[str, dict[str, t.Any]]:
    return {p["id"]: p for doc in result.manifest()["docs"] for p in doc["pages"]}


def manifest_tables(result: Result) -> dict[str, dict[str, t.Any]]:
    return {tb["id"]: tb for doc in result.manifest()["docs"] for tb in doc["tables"]}


def failure_keys(result: Result) -> set[tuple[str, str]]:
    """What the run could not back up: its failures and its skips (what Coda never serves)."""
    summary = result.summary()
    problems = [*summary["failures"], *summary.get("skips", [])]
    return {(f["object_type"], f["object_id"]) for f in problems}


def first_docs_listing(log: list[LogEntry]) -> LogEntry:
    return next(e for e in log if e.method == "GET" and e.path.endswith("/apis/v1/docs"))


def export_posts(log: list[LogEntry]) -> list[str]:
    """Page ids whose export was started, from the fake's request log."""
    return [e.path.split("/")[-2] for e in log if e.method == "POST"]


def assert_one_clear_error(result: Result, *fragments: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("coda-backup: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- one full default run, shared by the tests that only read it ----------------------------


@pytest.fixture(scope="module")
def full_run(
    start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Workspace, Result, list]:
    ws = build_test_workspace()
    with start_module_fake(ws, token=TOKEN, export_seconds=0, first_poll_404=True) as fake:
        result = run_coda_backup(output=tmp_path_factory.mktemp("full") / "backups", fake=fake)
        return ws, result, list(fake.log)


def test_full_run_with_failures_exits_3_and_is_promoted(full_run: tuple) -> None:
    ws, result, _ = full_run
    docs = listed_docs(ws)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    summary = result.summary()
    assert summary["status"] == "partial"
    assert failure_keys(result) == expected_failures(docs)
    assert set(manifest_docs(result)) == {d.id for d in docs}
    assert set(manifest_pages(result)) == {p.id for d in readable(docs) for p in d.pages}
    assert set(manifest_tables(result)) == {tb.id for d in readable(docs) for tb in d.tables}
    # the summary on stdout: status, the failures, the run folder
    assert "Backup partial" in result.stdout
    assert str(result.run_dir) in result.stdout
    assert f"{len(summary['failures'])} object(s) could not be backed up" in result.stdout


def test_state_json_belongs_to_the_promoted_run(full_run: tuple) -> None:
    _, result, _ = full_run
    path = result.output / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    assert state["run_id"] == result.latest
    assert state["singer_state"]["bookmarks"]["page_contents"]["partitions"]
    # a run with failures may have carried files from latest: not counted as a full check
    assert result.summary()["failures"] and "full_check_at" not in state
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    assert not list(result.output.glob(".state-*")), "temp file of the atomic write left over"


def test_default_run_lists_owned_docs_and_shows_no_progress_bar(full_run: tuple) -> None:
    _, result, log = full_run
    listing = first_docs_listing(log)
    assert listing.query.get("isOwner") == "true"
    assert "workspaceId" not in listing.query
    assert "\r" not in result.stderr  # not a terminal: plain lines only
    assert "| INFO" not in result.stderr  # default level is warning


def test_token_is_never_written_or_logged(full_run: tuple) -> None:
    _, result, _ = full_run
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    secret = TOKEN.encode()
    files = [p for p in result.output.rglob("*") if p.is_file() and not p.is_symlink()]
    assert files
    leaks = [p for p in files if secret in p.read_bytes()]
    assert not leaks


def test_token_file_is_used_and_never_copied(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    token_file = tmp_path / "token.txt"
    token_file.write_text(f"  {TOKEN}\n", encoding="utf-8")
    output = tmp_path / "backups"
    result = run_coda_backup(
        "--token-file",
        str(token_file),
        "--log-level",
        "debug",
        output=output,
        fake=fake,
        token=None,
    )
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr  # not even at debug level
    for path in output.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert TOKEN.encode() not in path.read_bytes(), path


# -- the tap and the target on their own ---------------------------------------------------


def test_tap_and_target_exit_0_on_a_run_with_failures(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """Failure records are data: both Singer programs complete normally (DESIGN.md)."""
    fake = start_fake(build_test_workspace())
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"api_url": fake.url, **FAST_TAP_SETTINGS}), "utf-8")
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"output_dir": str(tmp_path / "out")}), "utf-8")
    env = clean_env(CODA_API_TOKEN=TOKEN)
    tap = subprocess.Popen(
        [console_script("tap-coda"), "--config", str(tap_config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    target = subprocess.run(
        [console_script("target-files"), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0
    assert target.returncode == 0, target.stderr.decode()
    result = Result(0, "", "", tmp_path / "out")
    assert result.summary()["status"] == "partial"
    assert failure_keys(result) == expected_failures(listed_docs(fake.workspace))
    assert json.loads(target.stdout.decode().strip().splitlines()[-1])["bookmarks"]


# -- each flag changes exactly what it should ----------------------------------------------


def test_include_shared(full_run: tuple, start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace()
    fake = start_fake(ws)
    result = run_coda_backup("--include-shared", output=tmp_path / "b", fake=fake)
    assert result.returncode == 3, result.stderr
    shared = listed_docs(ws, include_shared=True)
    assert "isOwner" not in first_docs_listing(fake.log).query
    assert set(manifest_docs(result)) == {d.id for d in shared}
    assert set(manifest_docs(result)) - set(manifest_docs(full_run[1])) == {
        d.id for d in shared if not d.is_owner
    }
    assert failure_keys(result) == expected_failures(shared)


def test_workspace_id(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace()
    shared_doc, _ = ws.tagged("doc.shared")
    workspace = shared_doc.workspace_id
    fake = start_fake(ws)
    result = run_coda_backup(
        "--include-shared", "--workspace-id", workspace, output=tmp_path / "b", fake=fake
    )
    assert result.returncode in (0, 3), result.stderr
    expected = listed_docs(ws, include_shared=True, workspace_id=workspace)
    assert expected
    assert len(expected) < len(listed_docs(ws, include_shared=True))
    assert first_docs_listing(fake.log).query.get("workspaceId") == workspace
    assert set(manifest_docs(result)) == {d.id for d in expected}


def test_doc_id_repeatable_reaches_unlisted_docs(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace()
    unlisted, _ = ws.tagged("doc.unlisted")
    main, _ = ws.tagged("doc.main")
    fake = start_fake(ws)
    result = run_coda_backup(
        "--doc-id", unlisted.id, "--doc-id", main.id, output=tmp_path / "b", fake=fake
    )
    assert result.returncode == 3, result.stderr  # main holds pages that cannot export
    assert not unlisted.listed
    assert set(manifest_docs(result)) == {unlisted.id, main.id}
    assert fake.count(method="GET", path_re=r"/apis/v1/docs$") == 0  # no listing at all
    for doc in (unlisted, main):
        assert fake.count(method="GET", path_re=rf"/apis/v1/docs/{doc.id}$") >= 1
    assert failure_keys(result) == expected_failures([unlisted, main])


def test_skip_hidden_pages(full_run: tuple, start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace()
    fake = start_fake(ws)
    result = run_coda_backup("--skip-hidden-pages", output=tmp_path / "b", fake=fake)
    assert result.returncode == 3, result.stderr
    docs = readable(listed_docs(ws))
    hidden = {p.id for d in docs for p in d.pages if ws.effectively_hidden(d, p)}
    assert hidden, "the test workspace has hidden pages"
    everything = {p.id for d in docs for p in d.pages}
    assert set(manifest_pages(full_run[1])) == everything
    assert set(manifest_pages(result)) == everything - hidden
    assert not set(export_posts(fake.log)) & hidden


def test_no_views(full_run: tuple, start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace()
    fake = start_fake(ws)
    result = run_coda_backup("--no-views", output=tmp_path / "b", fake=fake)
    assert result.returncode == 3, result.stderr
    docs = readable(listed_docs(ws))
    views = {tb.id for d in docs for tb in d.tables if tb.table_type == "view"}
    bases = {tb.id for d in docs for tb in d.tables if tb.table_type != "view"}
    assert views
    assert set(manifest_tables(full_run[1])) == views | bases
    assert set(manifest_tables(result)) == bases
    assert not list(result.run_dir.glob("docs/*/tables/view/*"))
    for view in views:  # views are listed, but never fetched
        assert fake.count(path_re=rf"/tables/{view}(/|$)") == 0


def test_html_pages(full_run: tuple, start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace()
    fake = start_fake(ws)
    result = run_coda_backup("--html-pages", output=tmp_path / "b", fake=fake)
    assert result.returncode == 3, result.stderr
    docs = listed_docs(ws)
    exportable = exportable_pages(docs)
    assert sorted(export_posts(fake.log)) == sorted(exportable * 2)
    assert len(export_posts(full_run[2])) == len(exportable)
    broken = {p.id for d in docs for p in d.pages if p.export_fails}
    pages = manifest_pages(result)
    for page_id in set(exportable) - broken:
        files = pages[page_id]["files"]
        assert set(files) == {"markdown", "html"}
        assert (result.run_dir / files["html"]["path"]).is_file()
        assert set(manifest_pages(full_run[1])[page_id]["files"]) == {"markdown"}


def test_strict_latest_sends_the_doc_version_header(start_fake: StartFake, tmp_path: Path) -> None:
    """The fake's `stale` fault fires only on requests carrying X-Coda-Doc-Version."""
    for strict in (False, True):
        ws = build_demo_workspace()
        fake = start_fake(ws, faults=[Fault("stale", times=1)])
        args = ["--strict-latest"] if strict else []
        result = run_coda_backup(*args, output=tmp_path / f"b{strict}", fake=fake)
        assert result.returncode == 0, result.stderr  # one stale answer is retried
        assert fake.fault_hits == [1 if strict else 0]
        assert fake.count(status=400) == (1 if strict else 0)


def test_max_retries(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    doc = ws.docs[0]
    table = doc.tables[0]
    path = rf"/docs/{doc.id}/tables/{table.id}$"
    fake = start_fake(ws, faults=[Fault("status", path_re=path, method="GET", status=503)])
    result = run_coda_backup(
        "--max-retries", "2", "--doc-id", doc.id, output=tmp_path / "b", fake=fake
    )
    assert result.returncode == 3, result.stderr
    assert fake.count(method="GET", path_re=path) == 3  # the first try and 2 retries
    failure = next(f for f in result.summary()["failures"] if f["object_id"] == table.id)
    assert failure["http_status"] == 503
    assert failure["attempts"] == 3


def test_log_level_info_shows_child_logs_without_metrics(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    result = run_coda_backup("--log-level", "info", output=tmp_path / "b", fake=fake)
    assert result.returncode == 0, result.stderr
    assert "| INFO     | tap-coda" in result.stderr
    assert "| INFO     | target-files" in result.stderr
    assert "METRIC" not in result.stderr  # one line per request: debug only


# -- fatal errors: one clear line, exit 1 -----------------------------------------------------


def test_missing_token(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    result = run_coda_backup(output=tmp_path / "b", fake=fake, token=None)
    assert result.returncode == 1
    assert_one_clear_error(result, "CODA_API_TOKEN", "--token-file")
    assert not fake.log


def test_wrong_token(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    output = tmp_path / "b"
    result = run_coda_backup(output=output, fake=fake, token="not-the-token")
    assert result.returncode == 1
    assert_one_clear_error(result, "401")
    assert result.latest is None
    assert not output.exists()  # no run, no partial, and the folder it made is gone too
    assert fake.count(status=401) >= 1
    assert fake.count(method="POST") == 0


def test_a_token_too_short_to_be_codas_is_one_line_and_never_sent(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """A one-character token was sent, and masking it in the log lines masked every
    occurrence of that character; now it is refused before any request."""
    fake = start_fake(build_demo_workspace())
    result = run_coda_backup(output=tmp_path / "b", fake=fake, token="e")
    assert result.returncode == 1
    assert_one_clear_error(result, "the API token is 1 character long", "CODA_API_TOKEN")
    assert "[redacted]" not in result.stderr
    assert not fake.log


@pytest.mark.parametrize("kind", ["missing", "directory", "empty"])
def test_unusable_token_file(kind: str, start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    token_file = tmp_path / "token"
    if kind == "directory":
        token_file.mkdir()
    elif kind == "empty":
        token_file.write_text("\n", encoding="utf-8")
    result = run_coda_backup(
        "--token-file", str(token_file), output=tmp_path / "b", fake=fake, token=None
    )
    assert result.returncode == 1
    assert_one_clear_error(result, str(token_file))
    assert not fake.log


def test_unwritable_output(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run_coda_backup(output=blocker / "backups", fake=fake)
    assert result.returncode == 1
    assert_one_clear_error(result, "cannot write to the output folder")
    assert not fake.log  # checked before anything starts


# -- usage errors: exit 2 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--max-retries", "abc"], "--max-retries: invalid integer: 'abc'"),
        (["--max-retries", "-1"], "--max-retries: must be 0 or more"),
        (["--log-level", "loud"], "--log-level: invalid choice: 'loud'"),
        (["--api-url", "ftp://example.com"], "--api-url: not an http(s) URL"),
        (["--doc-id"], "--doc-id: expected one argument"),
    ],
)
def test_usage_errors(args: list[str], reason: str, tmp_path: Path) -> None:
    result = run_coda_backup(*args, output=tmp_path / "b")
    assert result.returncode == 2
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "b").exists()


def test_bad_tap_settings_env_is_a_usage_error(tmp_path: Path) -> None:
    result = run_coda_backup(
        output=tmp_path / "b", env={"CODA_BACKUP_TAP_SETTINGS": '{"api_token": "x"}'}
    )
    assert result.returncode == 2
    assert_one_clear_error(result, "may not contain api_token")


def test_help_shows_every_flag_and_examples() -> None:
    proc = subprocess.run(
        [console_script("coda-backup"), "--help"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0
    for flag in (
        "--output",
        "--token-file",
        "--include-shared",
        "--workspace-id",
        "--doc-id",
        "--skip-hidden-pages",
        "--no-views",
        "--html-pages",
        "--incremental",
        "--strict-latest",
        "--log-level",
        "--max-retries",
        "--api-url",
        "--dry-run",
    ):
        assert flag in proc.stdout
    assert "Linux/macOS" in proc.stdout
    assert "PowerShell" in proc.stdout
    assert "$env:CODA_API_TOKEN" in proc.stdout


# -- dry run -------------------------------------------------------------------------------


def test_dry_run_lists_everything_and_exports_nothing(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_test_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    result = run_coda_backup("--dry-run", output=output, fake=fake)
    assert result.returncode == 0, result.stderr
    assert fake.count(method="POST") == 0
    assert fake.count(path_re=r"/rows$") == 0
    assert not output.exists()
    docs = listed_docs(ws)
    for doc in docs:
        assert f"({doc.id})" in result.stdout
    for doc in readable(docs):
        for page in doc.pages:
            assert f"({page.id})" in result.stdout
        for table in doc.tables:
            assert f"({table.id})" in result.stdout
    assert f"back up {len(docs)} docs" in result.stdout


def _lines_by_id(stdout: str) -> dict[str, str]:
    """The dry run's line for each object id: `action  name (id) ... [note]`."""
    found = {}
    for line in stdout.splitlines():
        if "(" in line and line.startswith("    "):
            object_id = line.rsplit("(", 1)[1].split(")", 1)[0]
            found[object_id] = line.strip()
    return found


def test_dry_run_predicts_what_an_incremental_run_skips(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    assert run_coda_backup(output=output, fake=fake).returncode == 0

    # change one row of a table, and one page that holds no table
    doc = next(d for d in ws.docs if any(tb.table_type == "table" for tb in d.tables))
    table = next(tb for tb in doc.tables if tb.table_type == "table")
    ws.edit_row(doc.id, table.id, table.rows[0].id, {table.columns[0].id: "edited"})
    holders = {tb.parent_page_id for d in ws.docs for tb in d.tables}
    page_doc, page = next((d, p) for d in ws.docs for p in d.pages if p.id not in holders)
    ws.edit_page(page_doc.id, page.id, markdown="# edited\n")
    changed_tables = {table.id} | {v.id for v in ws.views_of(doc, table)}
    table_pages = {tb.parent_page_id for tb in doc.tables if tb.id in changed_tables}

    fake.reset_log()
    dry = run_coda_backup("--dry-run", "--incremental", output=output, fake=fake)
    assert dry.returncode == 0, dry.stderr
    assert fake.count(method="POST") == 0
    assert not [e for e in fake.log if e.path.endswith("/rows")]  # decides without reading
    lines = _lines_by_id(dry.stdout)
    assert lines[page.id].startswith("export") and lines[page.id].endswith("[changed]")
    for page_id in table_pages:
        assert lines[page_id].endswith("[a table on it changed]"), lines[page_id]
    for table_id in changed_tables:
        assert lines[table_id].startswith("read"), lines[table_id]
    predicted = {i for i, line in lines.items() if line.startswith("export")}
    assert predicted == {page.id} | table_pages
    skipped_tables = {i for i, line in lines.items() if line.startswith("skip") and "rows" in line}
    all_tables = {tb.id for d in ws.docs for tb in d.tables}
    assert skipped_tables == all_tables - changed_tables

    fake.reset_log()
    real = run_coda_backup("--incremental", output=output, fake=fake)
    assert real.returncode == 0, real.stderr
    assert set(export_posts(fake.log)) == predicted


# -- incremental state -----------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["corrupt", "foreign", "missing"])
def test_incremental_with_unusable_state_runs_in_full(
    problem: str, start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    assert run_coda_backup(output=output, fake=fake).returncode == 0
    state = output / "state.json"
    if problem == "corrupt":
        state.write_bytes(b'{"run_id": "2026-')
    elif problem == "foreign":
        data = json.loads(state.read_text(encoding="utf-8"))
        data["run_id"] = "1999-01-01T000000Z"
        state.write_text(json.dumps(data), encoding="utf-8")
    else:
        state.unlink()

    fake.reset_log()
    result = run_coda_backup("--incremental", output=output, fake=fake)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "state.json" in line]
    assert len(notes) == 1, result.stderr
    assert "doing a full run" in notes[0]
    assert "Traceback" not in result.stderr
    assert sorted(export_posts(fake.log)) == sorted(exportable_pages(ws.docs))
    # the state is whole again: the next incremental run exports nothing
    fake.reset_log()
    again = run_coda_backup("--incremental", output=output, fake=fake)
    assert again.returncode == 0, again.stderr
    assert "state.json" not in again.stderr
    assert fake.count(method="POST") == 0
    assert again.summary()["pages_skipped_unchanged"] == len(exportable_pages(ws.docs))


def test_full_run_without_incremental_still_writes_state(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    assert run_coda_backup(output=output, fake=fake).returncode == 0
    fake.reset_log()
    second = run_coda_backup(output=output, fake=fake)  # no --incremental: all again
    assert second.returncode == 0
    assert len(export_posts(fake.log)) == len(exportable_pages(ws.docs))
    state = json.loads((output / "state.json").read_text(encoding="utf-8"))
    assert state["run_id"] == second.latest


# -- signals and progress --------------------------------------------------------------------


def _children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the children")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_both_children_and_leaves_latest(
    signum: signal.Signals, start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    first = run_coda_backup(output=output, fake=fake)
    assert first.returncode == 0
    latest_before = first.latest
    state_before = (output / "state.json").read_bytes()

    fake.config.latency = 0.05  # a slow API: the run is still going when the signal comes
    fake.reset_log()
    env = clean_env(CODA_API_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [console_script("coda-backup"), "--output", str(output), "--api-url", fake.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(fake.log) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    children = _children_of(proc.pid)
    assert len(children) == 2, children  # tap-coda and target-files
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)]
    assert (output / "latest.txt").read_text(encoding="utf-8").strip() == latest_before
    assert (output / "state.json").read_bytes() == state_before
    assert sorted(p.name for p in output.iterdir() if p.is_dir() and not p.is_symlink()) == [
        latest_before
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(start_fake: StartFake, tmp_path: Path) -> None:
    import pty

    fake = start_fake(build_demo_workspace(), latency=0.01)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [console_script("coda-backup"), "--output", str(tmp_path / "b"), "--api-url", fake.url],
        env=clean_env(CODA_API_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed (Linux: EIO)
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    stdout, _ = proc.communicate(timeout=60)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "\r" in terminal
    assert "backing up:" in terminal
    assert "%|" in terminal  # a bar with its percentage
    assert "docs 0/" in terminal  # totals once the docs are listed
    assert "rows" in terminal
    assert b"Backup complete" in stdout
