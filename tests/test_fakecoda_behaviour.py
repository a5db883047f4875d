"""The fake Coda API behaves as NOTES.md says Coda does, over real HTTP (no mocks)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from fakecoda import (
    FakeCoda,
    Fault,
    Limit,
    RateLimits,
    Workspace,
    build_demo_workspace,
    build_test_workspace,
)
from tests.fakes import StartFake

# the `fake_coda` and `start_fake` fixtures (tests/conftest.py) accept this token

TOKEN = "fake-token-123"


def session(token: str = TOKEN) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


@pytest.fixture
def api() -> Iterator[requests.Session]:
    with session() as s:
        yield s


def walk(api: requests.Session, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every page body of a listing."""
    bodies = [api.get(url, params=params).json()]
    while "nextPageToken" in bodies[-1]:
        bodies.append(api.get(url, params={"pageToken": bodies[-1]["nextPageToken"]}).json())
    return bodies


def items(api: requests.Session, url: str, **params: Any) -> list[dict[str, Any]]:
    return [item for body in walk(api, url, **params) for item in body["items"]]


def rows_url(fake: FakeCoda, tag: str) -> str:
    doc, table = fake.workspace.tagged(tag)
    return f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows"


def export(api: requests.Session, fake: FakeCoda, tag: str, fmt: str = "markdown") -> str:
    doc, page = fake.workspace.tagged(tag)
    url = f"{fake.url}/docs/{doc.id}/pages/{page.id}/export"
    response = api.post(url, json={"outputFormat": fmt})
    assert response.status_code == 202, response.text
    return response.json()["href"]


def poll(api: requests.Session, href: str) -> dict[str, Any]:
    for _ in range(100):
        response = api.get(href)
        if response.status_code == 200 and response.json()["status"] != "inProgress":
            return response.json()
        time.sleep(0.02)
    raise AssertionError("export never finished")


# ---- the workspaces ---------------------------------------------------------------------------


def test_test_workspace_holds_every_awkward_case() -> None:
    ws = build_test_workspace(seed=0)
    docs = ws.docs
    assert 5 <= len(docs) <= 8
    assert {d.workspace_id for d in docs} == {"ws-AcmeCorp1", "ws-Personal2"}
    assert any(d.is_owner for d in docs) and any(not d.is_owner for d in docs)
    assert [d.name for d in docs if not d.listed] == ["Never Opened"]
    assert [d.name for d in docs if d.over_api_size_limit] == ["Huge Archive"]
    pages = [(d, p) for d in docs for p in d.pages]
    tables = [(d, t) for d in docs for t in d.tables]
    assert 35 <= len(pages) <= 50 and 12 <= len(tables) <= 22
    assert 150 <= sum(len(t.rows) for _, t in tables) <= 400
    assert {p.content_type for _, p in pages} == {"canvas", "syncPage", "embed", "table"}
    names = [p.name for _, p in pages]
    for hostile in ("../../etc", "CON", 'a/b\\c:d*?"<>|', "Trailing dot.", "Trailing space "):
        assert hostile in names
    assert any("\x00" in n for n in names) and any("\u200b" in n for n in names)
    assert any("\u202e" in n for n in names) and any(len(n) == 1000 for n in names)
    assert "Notes" in names and "NOTES" in names
    nfc, nfd = unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")
    assert nfc in names and nfd in names and nfc != nfd
    case_a, case_b = ws.tags["page.case_a"], ws.tags["page.case_b"]
    assert case_a != case_b and case_a.lower() == case_b.lower()
    assert names.count("Meeting Notes") == 2
    main = ws.doc(ws.tags["doc.main"])
    assert [t.name for t in main.tables].count("Tasks") == 2  # on two different pages
    hostile = ws.doc(ws.tags["doc.hostile"])
    assert [t.name for t in hostile.tables].count("Data") == 2
    weird = ws.tagged("table.weird_columns")[1]
    column_names = [c.name for c in weird.columns]
    assert column_names.count("Name") == 2 and "_row_id" in column_names
    assert len(ws.tagged("table.wide")[1].columns) == 130
    assert ws.tagged("table.empty")[1].rows == []
    hidden_child = ws.tagged("page.under_hidden")
    assert not hidden_child[1].is_hidden and ws.effectively_hidden(*hidden_child)
    deepest_doc, deepest = ws.tagged("page.deepest")
    depth = 0
    while deepest.parent_id:
        deepest, depth = ws.page(deepest_doc.id, deepest.parent_id), depth + 1
    assert depth >= 3
    assert any(t.table_type == "view" for _, t in tables)
    kinds = {c.format["type"] for _, t in tables for c in t.columns}
    for kind in ("text", "select", "person", "lookup", "number", "currency", "date", "email"):
        assert kind in kinds
    assert "link" in kinds and "checkbox" in kinds and "percent" in kinds
    values = [v for _, t in tables for r in t.rows for v in r.values.values()]
    assert None in values and True in values and any(isinstance(v, float) for v in values)
    assert any(isinstance(v, list) and v and isinstance(v[0], list) for v in values)
    texts = [v for v in values if isinstance(v, str)]
    for needle in (",", '"', "\n", "🚀", "עברית"):
        assert any(needle in t for t in texts), needle


def test_workspaces_are_deterministic_per_seed() -> None:
    assert build_test_workspace(seed=0) == build_test_workspace(seed=0)
    assert build_test_workspace(seed=0) != build_test_workspace(seed=1)
    assert build_demo_workspace() == build_demo_workspace()


def test_demo_workspace_is_realistic_and_tame() -> None:
    ws = build_demo_workspace()
    assert [d.name for d in ws.docs] == ["Product Launch Hub", "Team Wiki", "CRM"]
    hub = ws.docs[0]
    assert {t.name for t in hub.tables} >= {"Tasks", "Open Tasks"}
    crm_tables = {t.name: t for t in ws.docs[2].tables}
    assert crm_tables["Open Deals"].table_type == "view"
    names = [p.name for d in ws.docs for p in d.pages]
    assert all(re.fullmatch(r"[\w\- ]+", n) for n in names), names


# ---- auth and pagination ----------------------------------------------------------------------


def test_bearer_token_is_required(fake_coda: FakeCoda) -> None:
    assert requests.get(f"{fake_coda.url}/whoami").status_code == 401
    wrong = requests.get(f"{fake_coda.url}/docs", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {
        "statusCode": 401,
        "statusMessage": "Unauthorized",
        "message": "Unauthorized",
    }
    with session() as s:
        assert s.get(f"{fake_coda.url}/whoami").json()["loginId"] == "test.user@example.com"


def test_list_docs_clamps_pages_and_follows_tokens(
    fake_coda: FakeCoda,
    api: requests.Session,
) -> None:
    ws = fake_coda.workspace
    first = api.get(f"{fake_coda.url}/docs", params={"limit": 1000}).json()
    assert len(first["items"]) == 3  # silently clamped to page_clamp
    assert first["nextPageLink"] == f"{fake_coda.url}/docs?pageToken={first['nextPageToken']}"
    listed = items(api, f"{fake_coda.url}/docs", limit=1000)
    assert sorted(d["id"] for d in listed) == sorted(d.id for d in ws.docs if d.listed)
    owned = items(api, f"{fake_coda.url}/docs", isOwner="true")
    assert {d["id"] for d in owned} == {d.id for d in ws.docs if d.listed and d.is_owner}
    in_ws = items(api, f"{fake_coda.url}/docs", workspaceId="ws-Personal2")
    assert {d["workspace"]["id"] for d in in_ws} == {"ws-Personal2"}
    # Unlisted (never opened) docs are still reachable by id.
    unlisted = ws.tags["doc.unlisted"]
    assert unlisted not in {d["id"] for d in listed}
    assert api.get(f"{fake_coda.url}/docs/{unlisted}").status_code == 200


def test_params_sent_with_a_page_token_are_ignored(
    fake_coda: FakeCoda,
    api: requests.Session,
) -> None:
    url = f"{fake_coda.url}/docs"
    token = api.get(url, params={"isOwner": "true", "limit": 2}).json()["nextPageToken"]
    plain = api.get(url, params={"pageToken": token}).json()
    noisy = api.get(
        url, params={"pageToken": token, "isOwner": "false", "limit": 1, "workspaceId": "x"}
    ).json()
    assert plain["items"] == noisy["items"]
    assert plain.get("nextPageToken") == noisy.get("nextPageToken")
    owned = {d.id for d in fake_coda.workspace.docs if d.is_owner}
    assert {d["id"] for d in noisy["items"]} <= owned  # isOwner=true came from the token
    # Following nextPageLink as given works the same.
    assert api.get(api.get(url).json()["nextPageLink"]).status_code == 200


def test_bad_tokens_and_limits_are_400(fake_coda: FakeCoda, api: requests.Session) -> None:
    url = rows_url(fake_coda, "table.tasks")
    for params in ({"pageToken": "garbage"}, {"syncToken": "garbage"}, {"limit": "0"}):
        response = api.get(url, params=params)
        assert response.status_code == 400, params
    assert api.get(url, params={"pageToken": "garbage"}).json()["message"] == "Invalid pageToken."
    # A token for one listing does not continue another.
    docs_token = api.get(f"{fake_coda.url}/docs").json()["nextPageToken"]
    assert api.get(url, params={"pageToken": docs_token}).status_code == 400


def test_columns_page_at_column_clamp(fake_coda: FakeCoda, api: requests.Session) -> None:
    doc, wide = fake_coda.workspace.tagged("table.wide")
    url = f"{fake_coda.url}/docs/{doc.id}/tables/{wide.id}/columns"
    bodies = walk(api, url, limit=1000)
    assert [len(b["items"]) for b in bodies] == [100, 30]
    assert [c["id"] for b in bodies for c in b["items"]] == [c.id for c in wide.columns]
    view = fake_coda.workspace.tagged("view.wide")[1]
    view_columns = items(api, f"{fake_coda.url}/docs/{doc.id}/tables/{view.id}/columns")
    assert [c["id"] for c in view_columns] == [c.id for c in wide.columns]


def test_rows_pages_order_index_and_sync_token_placement(
    start_fake: StartFake,
    api: requests.Session,
) -> None:
    fake = start_fake(row_clamp=7)
    doc, tasks = fake.workspace.tagged("table.tasks")
    bodies = walk(api, rows_url(fake, "table.tasks"), limit=50, valueFormat="simpleWithArrays")
    assert {len(b["items"]) for b in bodies[:-1]} == {7}
    assert all("nextSyncToken" not in b for b in bodies[:-1])
    assert "nextSyncToken" in bodies[-1] and "nextPageToken" not in bodies[-1]
    rows = [r for b in bodies for r in b["items"]]
    assert [r["id"] for r in rows] == [r.id for r in tasks.rows]  # createdAt ascending
    assert [r["index"] for r in rows] == list(range(len(tasks.rows)))
    assert rows[3] == fake.workspace.api_row(doc, tasks, tasks.rows[3], base=fake.url)
    view = fake.workspace.tagged("view.open_tasks")[1]
    view_rows = items(api, rows_url(fake, "view.open_tasks"))
    assert [r["id"] for r in view_rows] == [r.id for r in fake.workspace.rows_of(doc, view)]
    assert all(r.values[tasks.columns[1].id] != "Done" for r in fake.workspace.rows_of(doc, view))


def test_value_formats(fake_coda: FakeCoda, api: requests.Session) -> None:
    ws = fake_coda.workspace
    doc, tasks = ws.tagged("table.tasks")
    col = {c.name: c.id for c in tasks.columns}
    url = rows_url(fake_coda, "table.tasks")
    row = tasks.rows[2]  # Tags ["Backend", "Docs"], Related two people
    got = {
        fmt: next(r for r in items(api, url, valueFormat=fmt, limit=100) if r["id"] == row.id)
        for fmt in ("simple", "simpleWithArrays", "rich")
    }
    assert got["simpleWithArrays"]["values"][col["Tags"]] == ["Backend", "Docs"]
    assert got["simple"]["values"][col["Tags"]] == "Backend, Docs"
    assert got["rich"]["values"][col["Task"]] == f"```{row.values[col['Task']]}```"
    owner = got["rich"]["values"][col["Owner"]]
    assert owner["@type"] == "Person" and owner["email"].endswith("@acme.example")
    budget = got["rich"]["values"][col["Budget"]]
    assert budget["@type"] == "MonetaryAmount" and budget["currency"] == "USD"
    related = got["rich"]["values"][col["Related"]]
    people = ws.tagged("table.people")[1]
    assert [r["tableId"] for r in related] == [people.id, people.id]
    assert {r["rowId"] for r in related} <= {r.id for r in people.rows}
    blank = next(r for r in tasks.rows if r.values[col["Spec"]] is None)
    for fmt in ("simple", "simpleWithArrays", "rich"):
        listed = next(r for r in items(api, url, valueFormat=fmt, limit=100) if r["id"] == blank.id)
        assert listed["values"][col["Spec"]] == ""  # Coda has no null cell
    by_name = api.get(url, params={"useColumnNames": "true"}).json()["items"][0]["values"]
    assert "Task" in by_name and col["Task"] not in by_name
    query = api.get(url, params={"query": f'{col["Status"]}:"Blocked"', "limit": 100}).json()
    assert query["items"] and {r["values"][col["Status"]] for r in query["items"]} == {"Blocked"}
    del doc


# ---- hidden, too big, names -------------------------------------------------------------------


def test_pages_list_is_flat_with_hidden_pages_and_tree_links(
    fake_coda: FakeCoda,
    api: requests.Session,
) -> None:
    ws = fake_coda.workspace
    doc = ws.doc(ws.tags["doc.main"])
    pages = {p["id"]: p for p in items(api, f"{fake_coda.url}/docs/{doc.id}/pages")}
    assert set(pages) == {p.id for p in doc.pages}
    assert pages[ws.tags["page.hidden"]]["isHidden"] is True
    child = pages[ws.tags["page.under_hidden"]]
    assert child["isHidden"] is False and child["isEffectivelyHidden"] is True
    assert child["parent"]["id"] == ws.tags["page.hidden"]
    launch = pages[ws.tags["page.launch"]]
    assert ws.tags["page.timeline"] in {c["id"] for c in launch["children"]}
    assert pages[ws.tags["page.table"]]["contentType"] == "table"
    by_name = api.get(f"{fake_coda.url}/docs/{doc.id}/pages/Team")
    assert by_name.json()["id"] == ws.tags["page.team"]  # ids or URI-encoded names


def test_over_size_doc_is_listed_but_closed(fake_coda: FakeCoda, api: requests.Session) -> None:
    big = fake_coda.workspace.tags["doc.too_big"]
    listed = {d["id"]: d for d in items(api, f"{fake_coda.url}/docs")}
    assert listed[big]["docSize"]["overApiSizeLimit"] is True
    for sub in ("pages", "tables"):
        assert api.get(f"{fake_coda.url}/docs/{big}/{sub}").status_code == 403


def test_tables_list_references_and_full_tables(
    fake_coda: FakeCoda,
    api: requests.Session,
) -> None:
    ws = fake_coda.workspace
    doc = ws.doc(ws.tags["doc.main"])
    refs = items(api, f"{fake_coda.url}/docs/{doc.id}/tables", tableTypes="table,view")
    assert [r["id"] for r in refs] == [t.id for t in doc.tables]
    assert set(refs[0]) == {"id", "type", "tableType", "href", "browserLink", "name", "parent"}
    only_views = items(api, f"{fake_coda.url}/docs/{doc.id}/tables", tableTypes="view")
    assert {r["tableType"] for r in only_views} == {"view"}
    view = api.get(f"{fake_coda.url}/docs/{doc.id}/tables/{ws.tags['view.open_tasks']}").json()
    assert view["parentTable"]["id"] == ws.tags["table.tasks"]
    assert view["filter"]["valid"] is True and "viewId" not in view
    assert view["rowCount"] == len(ws.rows_of(doc, ws.tagged("view.open_tasks")[1]))


# ---- rate limits ------------------------------------------------------------------------------


def test_rate_limits_per_class(start_fake: StartFake, api: requests.Session) -> None:
    assert RateLimits.coda().scaled(0.5).read == Limit(100, 12.0)  # half the rate
    assert RateLimits.coda().scaled(20).list_docs == Limit(4, 0.3)  # faster tests
    # Coda's bursts; windows long enough to count in, but short for list docs to slide on.
    limits = RateLimits(read=Limit(100, 30.0), write=Limit(10, 30.0), list_docs=Limit(4, 0.5))
    fake = start_fake(rate_limits=limits)
    docs = [api.get(f"{fake.url}/docs").status_code for _ in range(6)]
    assert docs == [200] * 4 + [429] * 2
    limited = api.get(f"{fake.url}/docs")
    assert limited.json() == {
        "statusCode": 429,
        "statusMessage": "Too Many Requests",
        "message": "Too Many Requests",
    }
    assert "Retry-After" not in limited.headers
    reads = [api.get(f"{fake.url}/whoami").status_code for _ in range(120)]
    assert reads == [200] * 100 + [429] * 20  # reads have their own budget
    doc, page = fake.workspace.tagged("page.launch")
    url = f"{fake.url}/docs/{doc.id}/pages/{page.id}/export"
    writes = [api.post(url, json={"outputFormat": "html"}).status_code for _ in range(12)]
    assert writes == [202] * 10 + [429] * 2  # the export POST is a write
    assert fake.count(status=429, rate_class="list_docs") == 3
    assert fake.count(status=429, rate_class="read") == 20
    assert fake.count(status=429, rate_class="write") == 2
    time.sleep(0.55)  # the list-docs window slides on
    assert api.get(f"{fake.url}/docs").status_code == 200


# ---- export -----------------------------------------------------------------------------------


def test_export_flow_with_lag_progress_gzip_and_expiring_links(
    start_fake: StartFake,
    api: requests.Session,
) -> None:
    fake = start_fake(export_seconds=0.15, link_ttl=0.25)
    doc, page = fake.workspace.tagged("page.launch")
    href = export(api, fake, "page.launch")
    assert api.get(href).status_code == 404  # the first poll: replication lag
    assert api.get(href).json()["status"] == "inProgress"
    done = poll(api, href)
    assert done["status"] == "complete" and "error" not in done
    link = done["downloadLink"]
    key = f"/blobs/DOC_EXPORT_RENDERING/{page.id}/{doc.id}?X-Amz-Expires=0&sig="
    assert link.startswith(fake.origin + key)
    raw = requests.get(link, stream=True)  # no Authorization header needed
    assert raw.headers["Content-Encoding"] == "gzip"
    assert raw.headers["Content-Type"] == "text/plain; charset=utf-8"
    body = gzip.decompress(raw.raw.read()).decode()
    assert body == fake.workspace.export_content(doc, page, "markdown")
    assert body.startswith(page.markdown) and "| Task | Status |" in body  # tables included
    assert requests.get(link).text == body  # requests decodes gzip itself
    time.sleep(0.3)
    first_dead = requests.get(link)
    assert first_dead.status_code == 200 and "<Code>NoSuchKey</Code>" in first_dead.text
    dead = requests.get(link)
    assert dead.status_code == 403 and "<Code>AccessDenied</Code>" in dead.text
    fresh = api.get(href).json()["downloadLink"]
    assert fresh != link and requests.get(fresh).text == body
    assert fake.count(rate_class="blob") == 5 and fake.count(method="POST", rate_class="write") == 1


def test_export_refusals_and_failures(fake_coda: FakeCoda, api: requests.Session) -> None:
    ws = fake_coda.workspace
    for tag in ("page.sync", "page.embed", "page.table"):
        doc, page = ws.tagged(tag)
        url = f"{fake_coda.url}/docs/{doc.id}/pages/{page.id}/export"
        refused = api.post(url, json={"outputFormat": "markdown"})
        assert refused.status_code == 400
        assert refused.json()["message"] == "Only canvas pages can be exported."
    doc, page = ws.tagged("page.launch")
    bad = api.post(
        f"{fake_coda.url}/docs/{doc.id}/pages/{page.id}/export", json={"outputFormat": "pdf"}
    )
    assert bad.status_code == 400
    failed = poll(api, export(api, fake_coda, "page.export_fails"))
    assert failed["status"] == "failed" and "could not be rendered" in failed["error"]
    assert "downloadLink" not in failed


def test_export_content_follows_table_edits_while_page_updated_at_stays(
    fake_coda: FakeCoda,
    api: requests.Session,
) -> None:
    ws = fake_coda.workspace
    doc, page = ws.tagged("page.launch")
    tasks = ws.tagged("table.tasks")[1]
    before = requests.get(poll(api, export(api, fake_coda, "page.launch"))["downloadLink"]).text
    page_updated = page.updated_at
    ws.edit_row(doc.id, tasks.id, tasks.rows[0].id, {"Task": "Renamed by a test"})
    after = requests.get(poll(api, export(api, fake_coda, "page.launch"))["downloadLink"]).text
    assert "Renamed by a test" in after and "Renamed by a test" not in before
    listed = api.get(f"{fake_coda.url}/docs/{doc.id}/pages/{page.id}").json()
    assert listed["updatedAt"] == page_updated


def test_shared_blob_key_serves_the_newest_export(
    start_fake: StartFake,
    api: requests.Session,
) -> None:
    fake = start_fake(shared_blob_key=True, first_poll_404=False)
    markdown = export(api, fake, "page.launch", "markdown")
    export(api, fake, "page.launch", "html")
    assert requests.get(poll(api, markdown)["downloadLink"]).text.startswith("<h1>")


# ---- sync tokens ------------------------------------------------------------------------------


def _sync(api: requests.Session, url: str, token: str | None = None) -> tuple[list[str], str]:
    params = {"syncToken": token} if token else {"valueFormat": "simpleWithArrays"}
    bodies = walk(api, url, **params)
    return [r["id"] for b in bodies for r in b["items"]], bodies[-1]["nextSyncToken"]


def test_sync_token_deltas_show_edits_and_adds_never_deletions(
    fake_coda: FakeCoda,
    api: requests.Session,
) -> None:
    ws = fake_coda.workspace
    doc, tasks = ws.tagged("table.tasks")
    url = rows_url(fake_coda, "table.tasks")
    view_url = rows_url(fake_coda, "view.open_tasks")
    full, token = _sync(api, url)
    assert len(full) == len(tasks.rows)
    _, view_token = _sync(api, view_url)
    assert _sync(api, url, token)[0] == []  # nothing changed
    edited, deleted = tasks.rows[1], tasks.rows[2]
    ws.edit_row(doc.id, tasks.id, edited.id, {"Status": "Blocked"})
    ws.delete_row(doc.id, tasks.id, deleted.id)
    added = ws.add_row(doc.id, tasks.id, {"Task": "Fresh", "Status": "To Do"})
    delta, token2 = _sync(api, url, token)
    assert delta == [edited.id, added.id]
    assert deleted.id not in delta
    rows = walk(api, url, syncToken=token, valueFormat="rich")[-1]["items"]
    assert rows[-1]["values"][tasks.columns[0].id] == "Fresh"  # the token's valueFormat rules
    assert _sync(api, url, token2)[0] == []
    assert added.id in _sync(api, view_url, view_token)[0]
    other = rows_url(fake_coda, "table.backlog")
    assert api.get(other, params={"syncToken": token}).status_code == 400
    ws.expire_sync_tokens()
    expired = api.get(url, params={"syncToken": token2})
    assert expired.status_code == 400 and expired.json()["message"] == "Invalid pageToken."
    assert _sync(api, url)[0][-1] == added.id  # a full listing still works


# ---- mutations and timestamps -----------------------------------------------------------------


def test_mutations_move_the_right_timestamps(fake_coda: FakeCoda, api: requests.Session) -> None:
    ws = fake_coda.workspace
    doc, tasks = ws.tagged("table.tasks")
    page = ws.page(doc.id, tasks.parent_page_id)
    view = ws.tagged("view.open_tasks")[1]

    def get(path: str) -> dict[str, Any]:
        return api.get(f"{fake_coda.url}/docs/{doc.id}{path}").json()

    before = (get("")["updatedAt"], get(f"/pages/{page.id}")["updatedAt"])
    row = ws.edit_row(doc.id, tasks.id, tasks.rows[0].id, {"Estimate": 99})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row.updated_at)
    assert row.updated_at > row.created_at
    assert get("")["updatedAt"] == row.updated_at > before[0]
    assert get(f"/tables/{tasks.id}")["updatedAt"] == row.updated_at
    assert get(f"/tables/{view.id}")["updatedAt"] == row.updated_at
    assert get(f"/pages/{page.id}")["updatedAt"] == before[1]  # row edits leave the page

    edited = ws.edit_page(doc.id, page.id, markdown="# New content\n")
    assert get(f"/pages/{page.id}")["updatedAt"] == edited.updated_at > row.updated_at
    assert get("")["updatedAt"] == edited.updated_at

    new_page = ws.add_page(doc.id, "Added", parent_id=page.id, markdown="hello")
    assert new_page.id in {c["id"] for c in get(f"/pages/{page.id}")["children"]}
    ws.rename_page(doc.id, new_page.id, "Renamed")
    renamed = get(f"/pages/{new_page.id}")
    assert renamed["name"] == "Renamed" and renamed["updatedAt"] == new_page.created_at

    table = ws.add_table(
        doc.id,
        "Fresh",
        new_page.id,
        ["A", ("B", {"type": "number", "isArray": False})],
        [{"A": "x", "B": 1}],
    )
    assert get(f"/pages/{new_page.id}")["updatedAt"] == table.created_at  # a canvas edit
    column = ws.add_column(doc.id, table.id, "C")
    assert [c["name"] for c in get(f"/tables/{table.id}/columns")["items"]] == ["A", "B", "C"]
    assert get(f"/tables/{table.id}/rows")["items"][0]["values"][column.id] == ""
    ws.rename_table(doc.id, table.id, "Fresher")
    assert get(f"/tables/{table.id}")["name"] == "Fresher"
    ws.set_view_filter(doc.id, view.id, None)
    assert get(f"/tables/{view.id}")["rowCount"] == len(tasks.rows)
    ws.delete_table(doc.id, table.id)
    assert api.get(f"{fake_coda.url}/docs/{doc.id}/tables/{table.id}").status_code == 404
    ws.delete_page(doc.id, new_page.id)
    assert api.get(f"{fake_coda.url}/docs/{doc.id}/pages/{new_page.id}").status_code == 410
    stamps = [row.updated_at, edited.updated_at, new_page.created_at, table.created_at]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_a_deleted_column_leaves_listings_and_rows(
    fake_coda: FakeCoda, api: requests.Session
) -> None:
    ws = fake_coda.workspace
    doc, tasks = ws.tagged("table.tasks")
    view = ws.tagged("view.open_tasks")[1]
    url = rows_url(fake_coda, "table.tasks")
    gone = next(c for c in tasks.columns if c.name == "Notes")
    before, token = _sync(api, url)
    table_before = api.get(f"{fake_coda.url}/docs/{doc.id}/tables/{tasks.id}").json()

    ws.delete_column(doc.id, tasks.id, gone.id)
    for tag, table in (("table.tasks", tasks), ("view.open_tasks", view)):
        listed = items(api, f"{fake_coda.url}/docs/{doc.id}/tables/{table.id}/columns")
        assert gone.id not in {c["id"] for c in listed}
        assert [c["id"] for c in listed] == [c.id for c in tasks.columns]
        rows = items(api, rows_url(fake_coda, tag))
        assert rows and all(gone.id not in r["values"] for r in rows)
    table_after = api.get(f"{fake_coda.url}/docs/{doc.id}/tables/{tasks.id}").json()
    assert table_after["updatedAt"] > table_before["updatedAt"]
    assert table_after["rowCount"] == table_before["rowCount"]
    # Row versions stay: the old token still answers, with no rows (as after add_column).
    assert _sync(api, url, token)[0] == []
    assert _sync(api, url)[0] == before
    with pytest.raises(ValueError, match="display column"):
        ws.delete_column(doc.id, tasks.id, tasks.display_column_id)
    with pytest.raises(KeyError):
        ws.delete_column(doc.id, tasks.id, gone.id)


# ---- doc version header and faults ------------------------------------------------------------


def test_doc_version_header_and_stale_fault(
    start_fake: StartFake,
    api: requests.Session,
) -> None:
    fake = start_fake(faults=[Fault("stale", path_re="/pages", times=2)])
    doc = fake.workspace.tags["doc.main"]
    url = f"{fake.url}/docs/{doc}/pages"
    assert api.get(url, headers={"X-Coda-Doc-Version": "1"}).json()["message"] == (
        "Doc is not yet up to date."
    )
    assert api.get(url).status_code == 200  # without the header nothing is refused
    latest = [api.get(url, headers={"X-Coda-Doc-Version": "latest"}).status_code for _ in range(3)]
    assert latest == [400, 400, 200]
    assert fake.fault_hits == [2]


def _statuses(start: StartFake, faults: list[Fault], seed: int, n: int = 30) -> list[int]:
    with start(faults=faults, seed=seed) as fake:
        with session() as s:
            for _ in range(n):
                s.get(f"{fake.url}/whoami")
        return [e.status for e in fake.log]


def test_faults_are_reproducible_for_a_seed(start_fake: StartFake) -> None:
    faults = [Fault("status", status=503, probability=0.4), Fault("429", probability=0.3)]
    first, again = _statuses(start_fake, faults, seed=7), _statuses(start_fake, faults, seed=7)
    assert first == again
    assert {200, 503, 429} <= set(first)
    assert _statuses(start_fake, faults, seed=8) != first


def test_fault_kinds(start_fake: StartFake, api: requests.Session) -> None:
    fake = start_fake(
        faults=[
            Fault("status", path_re="/whoami$", status=502, times=1),
            Fault("429", path_re="/whoami$", times=1, retry_after=2),
            Fault("reset", path_re="/tables$", times=1),
            Fault("timeout", path_re="/columns$", times=1, seconds=0.6),
            Fault("truncate", path_re="/pages$", times=1),
            Fault("non_json", path_re="/docs$", times=1),
            Fault("slow_body", path_re=r"/docs/[^/]+$", method="GET", times=1, seconds=0.3),
        ]
    )
    ws = fake.workspace
    doc = ws.tags["doc.main"]
    whoami = f"{fake.url}/whoami"
    first = api.get(whoami)
    assert first.status_code == 502 and first.json()["statusMessage"] == "Bad Gateway"
    second = api.get(whoami)
    assert second.status_code == 429 and second.headers["Retry-After"] == "2"
    assert api.get(whoami).status_code == 200
    with pytest.raises(requests.ConnectionError):
        api.get(f"{fake.url}/docs/{doc}/tables")
    table = ws.tags["table.tasks"]
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(f"{fake.url}/docs/{doc}/tables/{table}/columns", timeout=0.2)
    truncated = api.get(f"{fake.url}/docs/{doc}/pages")
    assert truncated.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.text)
    html = api.get(f"{fake.url}/docs")
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    started = time.monotonic()
    slow = api.get(f"{fake.url}/docs/{doc}")
    assert slow.json()["id"] == doc and time.monotonic() - started >= 0.25
    assert fake.fault_hits == [1] * 7
    assert fake.count(status=0) == 2  # reset and timeout sent no response
    for path in ("/whoami", f"/docs/{doc}/tables", f"/docs/{doc}/pages", "/docs"):
        assert api.get(fake.url + path).status_code == 200  # every fault was `times=1`


def test_fault_after_lets_matching_requests_through_first(
    start_fake: StartFake, api: requests.Session
) -> None:
    """`after`: a fault in the middle of a run, e.g. a token revoked after N requests."""
    fake = start_fake(faults=[Fault("status", path_re="/whoami$", status=401, after=2)])
    assert api.get(f"{fake.url}/docs").status_code == 200  # not matching: not counted
    codes = [api.get(f"{fake.url}/whoami").status_code for _ in range(4)]
    assert codes == [200, 200, 401, 401]
    assert fake.fault_hits == [2]


def test_export_and_link_faults(start_fake: StartFake, api: requests.Session) -> None:
    fake = start_fake(
        first_poll_404=False,
        faults=[
            Fault("export_stuck", times=2),
            Fault("export_fail", path_re="/export/", times=1),
            Fault("dead_link_403", times=1),
            Fault("dead_link_200", times=1),
        ],
    )
    stuck = export(api, fake, "page.launch")
    assert [api.get(stuck).json()["status"] for _ in range(3)] == [
        "inProgress",
        "inProgress",
        "failed",  # export_fail fires on the next poll
    ]
    link = poll(api, export(api, fake, "page.timeline"))["downloadLink"]
    assert requests.get(link).status_code == 403
    dead = requests.get(link)
    assert dead.status_code == 200 and "NoSuchKey" in dead.text
    assert requests.get(link).text.startswith("# Timeline")


def test_log_entries(fake_coda: FakeCoda, api: requests.Session) -> None:
    api.get(f"{fake_coda.url}/docs", params={"isOwner": "true", "limit": "2"})
    entry = fake_coda.log[-1]
    assert (entry.method, entry.path, entry.status) == ("GET", "/apis/v1/docs", 200)
    assert entry.query == {"isOwner": "true", "limit": "2"}
    assert entry.rate_class == "list_docs"
    assert fake_coda.count(method="get", path_re=r"/docs$") == 1
    fake_coda.reset_log()
    assert fake_coda.log == [] and fake_coda.count() == 0


def test_ws_is_shared_live(fake_coda: FakeCoda, api: requests.Session) -> None:
    ws: Workspace = fake_coda.workspace
    new = ws.add_doc("Brand New")
    assert new.id in {d["id"] for d in items(api, f"{fake_coda.url}/docs")}


def test_cli_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fakecoda", "--port", "0", "--workspace", "test"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/apis/v1", banner)
        assert url, banner
        with session() as s:
            assert s.get(f"{url.group(0)}/whoami").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=5)
