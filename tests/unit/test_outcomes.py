"""The target's pure decisions (target_files/outcomes.py), table-driven."""

from __future__ import annotations

import pytest

from target_files import outcomes
from target_files.outcomes import CsvPlan, DocOutcome, PageOutcome, TableOutcome


@pytest.mark.parametrize(
    ("mode", "expect_rows", "failed", "plan"),
    [
        ("full", True, False, CsvPlan.STAGED),
        ("delta", True, False, CsvPlan.MERGE),
        ("unchanged", True, False, CsvPlan.CARRY),
        ("full", True, True, CsvPlan.KEEP),
        ("delta", True, True, CsvPlan.KEEP),
        ("bogus", True, False, CsvPlan.KEEP),
        ("full", False, False, CsvPlan.METADATA_ONLY),
        ("full", False, True, CsvPlan.METADATA_ONLY),
    ],
)
def test_csv_plan(mode: str, expect_rows: bool, failed: bool, plan: CsvPlan) -> None:
    assert outcomes.csv_plan(mode, expect_rows=expect_rows, failed=failed) is plan


@pytest.mark.parametrize(
    ("statuses", "failed", "want"),
    [
        (set(), False, "exported"),  # metadata only: nothing to export
        ({"exported"}, False, "exported"),
        ({"exported", "unchanged"}, False, "exported"),
        ({"unchanged"}, False, "unchanged"),
        ({"unchanged", "failed"}, False, "failed"),
        ({"exported"}, True, "failed"),
        (set(), True, "failed"),
    ],
)
def test_page_status(statuses: set[str], failed: bool, want: str) -> None:
    assert outcomes.page_status(statuses, failed=failed) == want


@pytest.mark.parametrize(
    ("fmt", "failed", "unlisted", "want"),
    [
        ("markdown", set(), False, False),
        ("markdown", {"markdown"}, False, True),
        ("markdown", {"html"}, False, False),
        ("markdown", {None}, False, True),  # the page failed as a whole
        ("markdown", set(), True, True),
    ],
)
def test_format_failed(fmt: str, failed: set, unlisted: bool, want: bool) -> None:
    assert outcomes.format_failed(fmt, failed, unlisted=unlisted) is want


@pytest.mark.parametrize(
    ("source", "failed", "want"),
    [
        ("r1", False, ("p.md", "unchanged", "r1")),
        ("r1", True, ("p.md", "failed", "r1")),
        (None, False, (None, "failed", None)),
        (None, True, (None, "failed", None)),
    ],
)
def test_carried_file(source: str | None, failed: bool, want: tuple) -> None:
    got = outcomes.carried_file("p.md", source, failed=failed)
    assert (got.path, got.status, got.source) == want


@pytest.mark.parametrize(
    ("has_files", "expect_pages", "failed", "unlisted", "lost"),
    [
        (False, True, False, False, True),
        (True, True, False, False, False),
        (False, False, False, False, False),  # page_contents deselected
        (False, True, True, False, False),  # a failure explains it
        (False, True, False, True, False),
    ],
)
def test_page_lost(
    has_files: bool, expect_pages: bool, failed: bool, unlisted: bool, lost: bool
) -> None:
    got = outcomes.page_lost(
        has_files=has_files, expect_pages=expect_pages, failed=failed, unlisted=unlisted
    )
    assert got is lost


def test_missing_values_and_table_status() -> None:
    missing = outcomes.missing_values(["c-2", "c-1"], {"c-1", "c-9"})
    assert missing == ["c-1", "c-2", "c-9"]
    assert outcomes.table_status("exported", missing) == "failed"
    assert outcomes.table_status("unchanged", []) == "unchanged"


def test_index_failures() -> None:
    records = [
        {"object_type": "doc", "doc_id": "d1", "object_id": "d1"},
        {"object_type": "pages", "doc_id": "d2", "object_id": None},
        {"object_type": "tables", "doc_id": "d3", "object_id": None},
        {"object_type": "page_content", "doc_id": "d4", "object_id": "p1", "format": "html"},
        {"object_type": "page", "doc_id": "d4", "object_id": "p2"},
        {"object_type": "columns", "doc_id": "d4", "object_id": "t1"},
        {"object_type": "rows", "doc_id": "d4", "object_id": "t2"},
        {"object_type": "rows", "doc_id": "d4", "object_id": None},  # nothing to key it by
    ]
    got = outcomes.index_failures(records)
    assert got.docs == {"d1"}
    assert got.page_listing == {"d1", "d2"}
    assert got.table_listing == {"d1", "d3"}
    assert got.pages == {("d4", "p1"): {"html"}, ("d4", "p2"): {None}}
    assert got.tables == {("d4", "t1"), ("d4", "t2")}
    assert got.columns == {("d4", "t1")}


def test_failure_record_has_the_fields_first() -> None:
    got = outcomes.failure("rows", "d", "t", "T", "boom", path="x.csv", format="markdown")
    assert list(got)[:10] == [
        "kind", "reason", "object_type", "doc_id", "object_id", "name", "format", "error",
        "http_status", "attempts",
    ]  # fmt: skip
    assert (got["format"], got["path"], got["reported_by"]) == ("markdown", "x.csv", "target-files")


def _page(status: str, carried: int = 0) -> PageOutcome:
    return PageOutcome({"status": status}, carried=carried)


def _table(status: str, kind: str = "table", rows: int = 0, carried: int = 0) -> TableOutcome:
    return TableOutcome({"status": status}, kind, rows_written=rows, carried=carried)


def test_summary_counts_come_from_the_outcomes() -> None:
    docs = [
        DocOutcome(
            {},
            pages=[
                _page("exported"),
                _page("unchanged", 1),
                _page("unchanged", 2),
                _page("failed"),
            ],
            tables=[
                _table("exported", rows=5),
                _table("exported", "view", rows=2),
                _table("unchanged", carried=1),
                _table("failed", rows=3),
            ],
            failures=[{"object_type": "x"}],
        ),
        DocOutcome(
            {}, pages=[_page("failed")], tables=[_table("failed", "view")], carried=4, listed=False
        ),
    ]
    got = outcomes.summary_counts(docs, docs_found=3, other_records=7)
    assert got == {
        "docs_found": 3,
        "docs_processed": 1,
        "pages_exported": 1,
        "pages_skipped_unchanged": 2,
        "tables_exported": 1,
        "views_exported": 1,
        "tables_skipped_unchanged": 1,
        "rows_written": 10,
        "pages_failed": 2,
        "tables_failed": 2,
        "files_carried": 8,
        "other_records": 7,
    }
    assert outcomes.own_failures(docs) == [{"object_type": "x"}]
