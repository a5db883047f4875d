"""The real `tap-coda` console script against the fake Coda API, checked object by object.

Every expectation is computed from the fake's workspace (its ground truth), never typed in.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fakecoda import FakeCoda, build_test_workspace
from fakecoda.render import export_content
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, SingerOutput, run_tap

TOKEN = "fake-token-e2e-5f1c9a"


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    with start_module_fake(build_test_workspace(seed=0), token=TOKEN, page_clamp=3) as server:
        yield server


def tap_config(fake: FakeCoda, **settings: Any) -> dict[str, Any]:
    return {"api_url": fake.url, **FAST_TAP, **settings}


def sync(fake: FakeCoda, tmp_path: Path, **settings: Any) -> SingerOutput:
    result = run_tap(tap_config(fake, **settings), tmp_path, token=TOKEN)
    assert result.returncode == 0, result.stderr[-3000:]
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    return SingerOutput.parse(result.stdout)


def strip(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


def expected_docs(fake: FakeCoda, *, shared: bool = False, workspace: str | None = None):
    return [
        d
        for d in fake.workspace.docs
        if d.listed
        and (shared or d.is_owner)
        and (workspace is None or d.workspace_id == workspace)
    ]


@pytest.fixture(scope="module")
def full(fake: FakeCoda, tmp_path_factory: pytest.TempPathFactory) -> SingerOutput:
    """One run of everything (shared docs too), reused by the checks below."""
    return sync(fake, tmp_path_factory.mktemp("full"), include_shared=True)


def test_every_doc_once_with_raw_fields(fake: FakeCoda, full: SingerOutput) -> None:
    ws = fake.workspace
    docs = expected_docs(fake, shared=True)
    assert sorted(r["id"] for r in full.of("docs")) == sorted(d.id for d in docs)
    by_id = {r["id"]: r for r in full.of("docs")}
    for doc in docs:
        assert by_id[doc.id] == ws.api_doc(doc, base=fake.url)  # unknown fields kept too


def test_every_page_once_with_parent_ids(fake: FakeCoda, full: SingerOutput) -> None:
    ws = fake.workspace
    got = Counter((r["doc_id"], r["id"]) for r in full.of("pages"))
    want = {
        (d.id, p.id): p
        for d in expected_docs(fake, shared=True)
        if not d.over_api_size_limit
        for p in d.pages
    }
    assert set(got) == set(want)
    assert max(got.values()) == 1
    for record in full.of("pages"):
        doc = ws.doc(record["doc_id"])
        assert strip(record, "doc_id") == ws.api_page(doc, record["id"], base=fake.url)


def test_every_table_view_column_and_row(fake: FakeCoda, full: SingerOutput) -> None:
    ws = fake.workspace
    docs = [d for d in expected_docs(fake, shared=True) if not d.over_api_size_limit]
    tables = {(d.id, t.id): (d, t) for d in docs for t in d.tables}
    assert sorted((r["doc_id"], r["id"]) for r in full.of("tables")) == sorted(tables)
    assert {t.table_type for _, t in tables.values()} == {"table", "view"}
    for record in full.of("tables"):
        doc, table = tables[(record["doc_id"], record["id"])]
        assert strip(record, "doc_id") == ws.api_table(doc, table, base=fake.url)

    columns: dict[tuple[str, str], list[dict]] = {}
    for record in full.of("columns"):
        columns.setdefault((record["doc_id"], record["table_id"]), []).append(record)
    rows: dict[tuple[str, str], list[dict]] = {}
    for record in full.of("rows"):
        rows.setdefault((record["doc_id"], record["table_id"]), []).append(record)

    for key, (doc, table) in tables.items():
        got_columns = columns.get(key, [])
        assert [c["id"] for c in got_columns] == [c.id for c in table.columns]
        assert [c["position"] for c in got_columns] == list(range(len(table.columns)))
        for record in got_columns:
            assert strip(record, "doc_id", "table_id", "position") == ws.api_column(
                doc, table, record["id"], base=fake.url
            )
        want_rows = ws.rows_of(doc, table)
        got_rows = rows.get(key, [])
        assert [r["id"] for r in got_rows] == [r.id for r in want_rows]
        for record in got_rows:
            assert record["table_type"] == table.table_type
            assert strip(record, "doc_id", "table_id", "table_type") == ws.api_row(
                doc, table, record["id"], base=fake.url
            )
    assert any(len(t.columns) > 100 for _, t in tables.values())
    assert any(not ws.rows_of(d, t) for d, t in tables.values())


def test_one_table_sync_per_table_after_its_rows(full: SingerOutput) -> None:
    syncs = full.of("table_syncs")
    assert sorted((s["doc_id"], s["table_id"]) for s in syncs) == sorted(
        (t["doc_id"], t["id"]) for t in full.of("tables")
    )
    counts = Counter((r["doc_id"], r["table_id"]) for r in full.of("rows"))
    for sync_record in syncs:
        assert sync_record["mode"] == "full"
        assert (
            sync_record["rows_emitted"] == counts[(sync_record["doc_id"], sync_record["table_id"])]
        )
    # message order: a table's rows and its table_syncs come before the tables record
    seen_tables: set[tuple[str, str]] = set()
    for message in full.messages:
        if message["type"] != "RECORD":
            continue
        record = message["record"]
        if message["stream"] == "tables":
            seen_tables.add((record["doc_id"], record["id"]))
        elif message["stream"] in ("rows", "columns", "table_syncs"):
            assert (record["doc_id"], record["table_id"]) not in seen_tables


def test_page_contents_and_failures(fake: FakeCoda, full: SingerOutput) -> None:
    ws = fake.workspace
    docs = [d for d in expected_docs(fake, shared=True) if not d.over_api_size_limit]
    exportable = {
        (d.id, p.id): p
        for d in docs
        for p in d.pages
        if p.content_type == "canvas" and not p.export_fails
    }
    contents = {(r["doc_id"], r["page_id"]): r for r in full.of("page_contents")}
    assert set(contents) == set(exportable)
    for key, page in exportable.items():
        assert contents[key]["format"] == "markdown"
        assert contents[key]["content"] == export_content(ws, ws.doc(key[0]), page, "markdown")
        assert contents[key]["page_updatedAt"] == page.updated_at

    failures = full.of("failures")
    failed_pages = {
        (f["doc_id"], f["object_id"]) for f in failures if f["object_type"] == "page_content"
    }
    unexportable = {(d.id, p.id) for d in docs for p in d.pages} - set(exportable)
    assert failed_pages == unexportable
    over = {d.id for d in expected_docs(fake, shared=True) if d.over_api_size_limit}
    assert over, "the test workspace has an over-size doc"
    assert {f["doc_id"] for f in failures if f["object_type"] == "doc"} == over
    for failure in failures:
        assert failure["error"] and "\n" not in failure["error"]
        assert failure["attempts"] >= 1
    # failures come last, after every docs record
    last_doc = max(
        i
        for i, m in enumerate(full.messages)
        if m.get("stream") == "docs" and m["type"] == "RECORD"
    )
    first_failure = min(
        i
        for i, m in enumerate(full.messages)
        if m.get("stream") == "failures" and m["type"] == "RECORD"
    )
    assert first_failure > last_doc
    assert ws  # the workspace is what the expectations came from


def test_rows_state_keeps_a_sync_token_per_table(full: SingerOutput) -> None:
    final = full.states[-1]
    partitions = final["bookmarks"]["rows"]["partitions"]
    tables = {(t["doc_id"], t["id"]) for t in full.of("tables")}
    by_table = {(p["context"]["doc_id"], p["context"]["table_id"]): p for p in partitions}
    assert set(by_table) == tables
    for partition in by_table.values():
        assert partition["sync_token"]
        assert "progress_markers" not in partition


@pytest.mark.parametrize("case", ["owned", "shared", "workspace"])
def test_doc_filters(fake: FakeCoda, tmp_path: Path, case: str) -> None:
    workspaces = sorted({d.workspace_id for d in fake.workspace.docs})
    assert len(workspaces) >= 2
    settings: dict[str, Any] = {
        "owned": {},
        "shared": {"include_shared": True},
        "workspace": {"include_shared": True, "workspace_id": workspaces[1]},
    }[case]
    docs = expected_docs(
        fake, shared=bool(settings.get("include_shared")), workspace=settings.get("workspace_id")
    )
    fake.reset_log()
    out = sync(fake, tmp_path, page_formats=[], **settings)
    assert sorted(r["id"] for r in out.of("docs")) == sorted(d.id for d in docs)
    listing = [e for e in fake.log if e.path.rstrip("/").endswith("/docs")]
    first_pages = [e for e in listing if "pageToken" not in e.query]
    assert first_pages
    for entry in first_pages:
        assert (entry.query.get("isOwner") == "true") != bool(settings.get("include_shared"))
        assert entry.query.get("workspaceId") == settings.get("workspace_id")


def test_doc_ids_back_up_exactly_those_even_never_opened(fake: FakeCoda, tmp_path: Path) -> None:
    unlisted = [d for d in fake.workspace.docs if not d.listed]
    assert unlisted
    chosen = [unlisted[0].id, expected_docs(fake)[0].id]
    out = sync(fake, tmp_path, doc_ids=chosen, page_formats=[])
    assert sorted(r["id"] for r in out.of("docs")) == sorted(chosen)
    assert {r["doc_id"] for r in out.of("pages")} <= set(chosen)


def test_skip_hidden_pages_and_no_views(fake: FakeCoda, tmp_path: Path) -> None:
    ws = fake.workspace
    out = sync(
        fake,
        tmp_path,
        include_shared=True,
        skip_hidden_pages=True,
        include_views=False,
        page_formats=[],
    )
    docs = [d for d in expected_docs(fake, shared=True) if not d.over_api_size_limit]
    want_pages = {(d.id, p.id) for d in docs for p in d.pages if not ws.effectively_hidden(d, p)}
    hidden = {(d.id, p.id) for d in docs for p in d.pages if ws.effectively_hidden(d, p)}
    assert hidden and any(
        not p.is_hidden for d in docs for p in d.pages if ws.effectively_hidden(d, p)
    )
    assert {(r["doc_id"], r["id"]) for r in out.of("pages")} == want_pages
    want_tables = {(d.id, t.id) for d in docs for t in d.tables if t.table_type == "table"}
    assert {(r["doc_id"], r["id"]) for r in out.of("tables")} == want_tables


def test_html_pages(fake: FakeCoda, tmp_path: Path) -> None:
    ws = fake.workspace
    doc = expected_docs(fake)[0]
    out = sync(fake, tmp_path, doc_ids=[doc.id], page_formats=["markdown", "html"])
    got = {(r["page_id"], r["format"]): r["content"] for r in out.of("page_contents")}
    canvas = [p for p in doc.pages if p.content_type == "canvas" and not p.export_fails]
    assert canvas
    for page in canvas:
        for output_format in ("markdown", "html"):
            want = export_content(ws, doc, page, output_format)
            assert got[(page.id, output_format)] == want
    assert ws


def test_missing_and_wrong_token_end_with_one_line(fake: FakeCoda, tmp_path: Path) -> None:
    for token, needle in ((None, "CODA_API_TOKEN"), ("wrong-token-000", "401")):
        result = run_tap(tap_config(fake), tmp_path, token=token)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
        assert len(errors) == 1, result.stderr[-2000:]
        assert needle in errors[0]
        assert result.stdout.strip() == "" or all(
            json.loads(line)["type"] != "RECORD" for line in result.stdout.splitlines()
        )
