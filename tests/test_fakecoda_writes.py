"""The fake's write endpoints behave as Coda's: queued, applied later, paced as writes."""

from __future__ import annotations

import time

import requests

from fakecoda import Limit, RateLimits, build_test_workspace
from tests.fakes import StartFake

TOKEN = "fake-token-123"


def session() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    return s


def test_a_row_write_shows_only_after_its_delay(start_fake: StartFake) -> None:
    ws = build_test_workspace(seed=0)
    config = {"token": TOKEN, "mutation_seconds": 0.5, "first_poll_404": False}
    with start_fake(ws, **config) as fake, session() as s:
        doc, table = ws.tagged("table.backlog")
        rows = f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows"
        before = len(table.rows)
        cells = [{"column": table.columns[0].id, "value": "late"}]
        begun = s.post(rows, json={"rows": [{"cells": cells}]}).json()
        status = f"{fake.url}/mutationStatus/{begun['requestId']}"
        assert s.get(status).json() == {"completed": False}
        assert s.get(f"{rows}/{begun['addedRowIds'][0]}").status_code == 404
        assert len(table.rows) == before
        time.sleep(0.6)
        assert s.get(status).json() == {"completed": True}
        new = s.get(f"{rows}/{begun['addedRowIds'][0]}").json()
        assert new["values"][table.columns[0].id] == "late"


def test_key_columns_update_the_matching_row_instead_of_adding(start_fake: StartFake) -> None:
    ws = build_test_workspace(seed=0)
    with start_fake(ws, token=TOKEN) as fake, session() as s:
        doc, table = ws.tagged("table.backlog")
        key, other = table.columns[0], table.columns[1]
        target = table.rows[0]
        count = len(table.rows)
        cells = [
            {"column": key.id, "value": target.values[key.id]},
            {"column": other.id, "value": 99},
        ]
        url = f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows"
        s.post(url, json={"rows": [{"cells": cells}], "keyColumns": [key.id]}).raise_for_status()
        fake.settle_writes()
        assert len(table.rows) == count
        assert target.values[other.id] == 99


def test_writes_are_the_write_rate_class(start_fake: StartFake) -> None:
    ws = build_test_workspace(seed=0)
    limits = RateLimits(write=Limit(2, 60.0))
    with start_fake(ws, token=TOKEN, rate_limits=limits) as fake, session() as s:
        doc, table = ws.tagged("table.backlog")
        url = f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows"
        statuses = [s.delete(f"{url}/{row.id}").status_code for row in table.rows[:3]]
        assert statuses == [202, 202, 429]
        assert s.get(url).status_code == 200  # reads are another class
        assert fake.count(method="DELETE", rate_class="write") == 3
        fake.settle_writes()
        assert fake.mutations.pending == 0


def test_page_writes_are_also_doc_content_writes(start_fake: StartFake) -> None:
    ws = build_test_workspace(seed=0)
    limits = RateLimits(write=Limit(10, 60.0), doc_content_writes=Limit(2, 60.0))
    with start_fake(ws, token=TOKEN, rate_limits=limits) as fake, session() as s:
        doc, table = ws.tagged("table.backlog")
        pages = f"{fake.url}/docs/{doc.id}/pages"
        statuses = [s.post(pages, json={"name": f"P{i}"}).status_code for i in range(3)]
        assert statuses == [202, 202, 429]
        rows = f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows/{table.rows[0].id}"
        assert s.delete(rows).status_code == 202  # a plain write still has room
        # the refused page write used no budget in either class; doc content stays spent
        assert fake.limiter.allow_all(TOKEN, ("write",))
        assert not fake.limiter.allow_all(TOKEN, ("write", "doc_content_writes"))
