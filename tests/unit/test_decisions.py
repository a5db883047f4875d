"""tap_coda.decisions: one table of cases per rule of an incremental run."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone

import pytest

from tap_coda import decisions

NOW = datetime(2026, 3, 7, 12, 0, tzinfo=timezone.utc)
RECENT = (NOW - timedelta(days=1)).isoformat()
OLD = (NOW - timedelta(days=30)).isoformat()

#: A rows bookmark as the last run left it, and the same table seen again unchanged.
PREVIOUS = {
    "sync_token": "tok-1",
    "row_count": 10,
    "columns_fingerprint": "fp-1",
    "table_updated_at": "2026-03-01T00:00:00.000Z",
    "table_browser_link": "https://coda.io/d/_dd#Page_tu/r1",
    "full_synced_at": RECENT,
    "max_created_at": "2026-02-01T00:00:00.000Z",
}
TABLE = {
    "table_type": "table",
    "row_count": 10,
    "table_updated_at": "2026-03-01T00:00:00.000Z",
    "table_browser_link": "https://coda.io/d/_dd#Page_tu/r1",
}

ROWS_CASES: list[tuple[str, dict[str, t.Any], dict[str, t.Any], dict[str, t.Any], str]] = [
    # (case, bookmark changes, table changes, call keywords, expected mode)
    ("nothing moved", {}, {}, {}, "unchanged"),
    ("first run", {"sync_token": None}, {}, {}, "full"),
    ("no bookmark at all", dict.fromkeys(PREVIOUS), {}, {}, "full"),
    ("columns changed", {"columns_fingerprint": "fp-0"}, {}, {}, "full"),
    ("columns not read", {}, {}, {"fingerprint": None}, "full"),
    ("page renamed", {}, {"table_browser_link": "https://coda.io/d/_dd#New_tu/r1"}, {}, "full"),
    ("refresh due", {"full_synced_at": OLD}, {}, {}, "full"),
    ("never read in full", {"full_synced_at": None}, {}, {}, "full"),
    ("refresh off", {"full_synced_at": OLD}, {}, {"refresh_days": 0}, "unchanged"),
    ("rows edited", {}, {"table_updated_at": "2026-03-02T00:00:00.000Z"}, {}, "delta"),
    ("rows added", {}, {"row_count": 12}, {}, "delta"),
    ("rows deleted", {}, {"row_count": 9}, {}, "full"),
    ("view edited", {}, {"table_type": "view", "row_count": 11}, {}, "full"),
    ("view unchanged", {}, {"table_type": "view"}, {}, "unchanged"),
    ("refetch, unchanged", {}, {}, {"refetch": True}, "full"),
    ("refetch, edited", {}, {"row_count": 12}, {"refetch": True}, "full"),
]


@pytest.mark.parametrize(
    ("previous", "table", "keywords", "expected"),
    [case[1:] for case in ROWS_CASES],
    ids=[case[0] for case in ROWS_CASES],
)
def test_plan_rows(
    previous: dict[str, t.Any], table: dict[str, t.Any], keywords: dict[str, t.Any], expected: str
) -> None:
    call = {"fingerprint": "fp-1", "refresh_days": 7, "refetch": False, **keywords}
    plan = decisions.plan_rows(
        {**PREVIOUS, **previous},
        {**TABLE, **table},
        call["fingerprint"],
        now=NOW,
        refresh_days=call["refresh_days"],
        refetch=call["refetch"],
    )
    assert plan.mode == expected
    assert plan.reason


DELTA_CASES = [
    # (case, rows' createdAt values, rowCount now, the delta explains the count)
    ("edits only", ["2026-01-01", "2026-01-15"], 10, True),
    ("two created", ["2026-02-02", "2026-02-03"], 12, True),
    ("one created, one deleted", ["2026-02-02"], 10, False),
    ("edit and deletion", ["2026-01-01"], 9, False),
    ("empty delta, count moved", [], 11, False),
]


@pytest.mark.parametrize(
    ("created", "row_count", "expected"),
    [case[1:] for case in DELTA_CASES],
    ids=[case[0] for case in DELTA_CASES],
)
def test_delta_explains_count(created: list[str], row_count: int, expected: bool) -> None:
    rows = [{"createdAt": f"{day}T00:00:00.000Z"} for day in created]
    assert decisions.delta_explains_count(PREVIOUS, rows, row_count) is expected


PAGE_CASES = [
    # (case, updatedAt now, at last export, table on it changed, refetch, expected reason)
    ("unchanged", "A", "A", False, False, None),
    ("never exported", "A", None, False, False, "new"),
    ("edited", "B", "A", False, False, "changed"),
    ("no updatedAt", None, "A", False, False, "changed"),
    ("no updatedAt, new", None, None, False, False, "new"),
    ("a table on it changed", "A", "A", True, False, "table"),
    ("edited and a table changed", "B", "A", True, False, "changed"),
    ("refetch, unchanged", "A", "A", False, True, "refetch"),
    ("refetch, new", "A", None, False, True, "refetch"),
]


@pytest.mark.parametrize(
    ("updated_at", "previous", "table_changed", "refetch", "expected"),
    [case[1:] for case in PAGE_CASES],
    ids=[case[0] for case in PAGE_CASES],
)
def test_page_export_reason(
    updated_at: str | None,
    previous: str | None,
    table_changed: bool,
    refetch: bool,
    expected: str | None,
) -> None:
    reason = decisions.page_export_reason(
        updated_at=updated_at, previous=previous, table_changed=table_changed, refetch=refetch
    )
    assert reason == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [("canvas", True), ("embed", False), ("syncPage", False), ("table", False), (None, False)],
)
def test_only_canvas_pages_are_exportable(content_type: str | None, expected: bool) -> None:
    assert decisions.page_is_exportable(content_type) is expected


@pytest.mark.parametrize(
    ("hidden", "skip_hidden", "kept"),
    [(False, False, True), (True, False, True), (False, True, True), (True, True, False)],
)
def test_page_is_kept(hidden: bool, skip_hidden: bool, kept: bool) -> None:
    page = {"id": "canvas-1", "isEffectivelyHidden": hidden}
    assert decisions.page_is_kept(page, skip_hidden_pages=skip_hidden) is kept


@pytest.mark.parametrize(
    ("table_type", "include_views", "kept"),
    [("table", True, True), ("table", False, True), ("view", True, True), ("view", False, False)],
)
def test_table_is_kept(table_type: str, include_views: bool, kept: bool) -> None:
    assert decisions.table_is_kept({"tableType": table_type}, include_views=include_views) is kept


@pytest.mark.parametrize(
    ("doc", "over"),
    [
        ({"docSize": {"overApiSizeLimit": True}}, True),
        ({"docSize": {"overApiSizeLimit": False}}, False),
        ({"docSize": None}, False),
        ({}, False),
    ],
)
def test_doc_over_size_limit(doc: dict[str, t.Any], over: bool) -> None:
    assert decisions.doc_is_over_size_limit(doc) is over


def test_refetch_key_is_doc_slash_object() -> None:
    assert decisions.refetch_key("AbCd", "grid-1") == "AbCd/grid-1"
