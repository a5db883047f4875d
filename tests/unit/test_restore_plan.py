"""The pure decisions of a restore: which columns, which rows, which pages, which batches."""

from __future__ import annotations

import typing as t

import pytest

from coda_backup.restore import pageplan, rowplan
from coda_backup.restore.rowplan import ColumnMismatchError, LiveRow
from coda_backup.restore.snapshot import SavedPage, SavedRow
from tap_coda.pacing import is_doc_content_write, rate_class_of

COLUMNS = [
    {"id": "c-a", "name": "Task"},
    {"id": "c-b", "name": "Estimate"},
    {"id": "c-f", "name": "Score", "calculated": True},
]


def test_columns_by_id_skip_calculated_ones() -> None:
    mapped = rowplan.map_columns(COLUMNS, COLUMNS, by_name=False)
    assert mapped.pairs == {"c-a": "c-a", "c-b": "c-b"}
    assert mapped.calculated == ["Score"]


def test_columns_by_name_into_another_table_and_a_clear_error() -> None:
    other = [{"id": "c-x", "name": "Task"}, {"id": "c-y", "name": "Estimate"}]
    assert rowplan.map_columns(COLUMNS[:2], other, by_name=True).pairs == {
        "c-a": "c-x",
        "c-b": "c-y",
    }
    with pytest.raises(ColumnMismatchError, match=r"same name for \['Estimate'\]"):
        rowplan.map_columns(COLUMNS[:2], other[:1], by_name=True)


def plan(saved: list[SavedRow], live: list[LiveRow], **kw: t.Any) -> rowplan.RowPlan:
    columns = rowplan.map_columns(COLUMNS, COLUMNS, by_name=False)
    return rowplan.plan_rows(saved, live, columns, delete_added=kw.get("delete_added", False))


def test_rows_deleted_changed_added_and_restored_earlier() -> None:
    saved = [
        SavedRow("i-1", {"c-a": "one", "c-b": 1, "c-f": 2}),
        SavedRow("i-2", {"c-a": "two", "c-b": 2.5, "c-f": 5}),
        SavedRow("i-3", {"c-a": "three", "c-b": "", "c-f": 0}),
        SavedRow("i-4", {"c-a": "four", "c-b": 4, "c-f": 8}),
    ]
    live = [
        LiveRow("i-1", {"c-a": "one", "c-b": 1, "c-f": 99}),  # only the formula differs
        LiveRow("i-2", {"c-a": "two", "c-b": 3}),  # edited since
        LiveRow("i-9", {"c-a": "four", "c-b": 4}),  # i-4, restored earlier under a new id
        LiveRow("i-8", {"c-a": "new", "c-b": 0}),  # added since
    ]
    got = plan(saved, live)
    assert got.unchanged == 1
    assert got.updates == [("i-2", {"c-b": 2.5})]
    assert got.inserts == [("i-3", {"c-a": "three"})]  # blank cells are not sent
    assert got.restored == {"i-4": "i-9"}
    assert (got.added_since, got.deletes) == (1, [])
    assert plan(saved, live, delete_added=True).deletes == ["i-8"]
    assert rowplan.write_requests(got) == 2


def test_a_second_plan_after_the_writes_is_empty() -> None:
    saved = [SavedRow(f"i-{n}", {"c-a": f"row {n}", "c-b": n}) for n in range(5)]
    live = [LiveRow(f"i-new{n}", {"c-a": f"row {n}", "c-b": n}) for n in range(5)]
    again = plan(saved, live)
    assert again.empty and len(again.restored) == 5


def test_batches_keep_within_coda_limits() -> None:
    small = [(f"i-{n}", {"c-a": "x"}) for n in range(250)]
    assert [len(b) for b in rowplan.insert_batches(small)] == [100, 100, 50]
    big = [(f"i-{n}", {"c-a": "x" * 80_000}) for n in range(60)]
    batches = rowplan.insert_batches(big)
    sizes = [sum(len(rowplan.row_edit(c)) + 1 for _, c in b) for b in batches]
    assert max(sizes) <= rowplan.MAX_REQUEST_BYTES
    assert sum(len(b) for b in batches) == 60
    too_big = SavedRow("i-big", {"c-a": "y" * (86 * 1024)})
    assert plan([too_big], []).too_big == ["i-big"]


def page(pid: str, name: str, parent: str | None = None, **obj: t.Any) -> SavedPage:
    return SavedPage(pid, name, parent, {"name": name, "contentType": "canvas", **obj}, "x", "html")


PAGES = [
    page("p1", "Home", subtitle="sub", icon={"name": "rocket"}),
    page("p2", "Plans", "p1"),
    page("p3", "Sync", "p1", contentType="syncPage"),
    page("p4", "Under sync", "p3", isHidden=True),
    page("p5", "Board"),
]


def test_pages_keep_the_tree_and_skip_what_cannot_be_created() -> None:
    got = pageplan.plan_pages(PAGES, pageplan.select(PAGES, [], recursive=False), [], parent=None)
    assert [(c.old_id, c.parent, c.depth) for c in got.creates] == [
        ("p1", None, 0),
        ("p2", "p1", 1),
        ("p4", "p1", 1),  # under its nearest restored ancestor
        ("p5", None, 0),
    ]
    assert got.creates[0].body["iconName"] == "rocket"
    assert got.creates[2].hidden
    assert [s[0] for s in got.skipped] == ["p3"]
    assert got.writes == 5  # four pages and one hide


def test_pages_already_there_are_not_written_again() -> None:
    live = [
        {"id": "n1", "name": "Home"},
        {"id": "n2", "name": "Plans", "parent": {"id": "n1"}},
    ]
    chosen = pageplan.select(PAGES, ["Home"], recursive=True)
    got = pageplan.plan_pages(PAGES, chosen, live, parent=None)
    assert got.existing == {"p1": "n1", "p2": "n2"}
    assert [(c.old_id, c.live_parent) for c in got.creates] == [("p4", "n1")]
    with pytest.raises(pageplan.PageSelectionError):
        pageplan.select(PAGES, ["Nope"], recursive=False)


@pytest.mark.parametrize(
    ("method", "url", "content"),
    [
        ("POST", "https://coda.io/apis/v1/docs/AbC/pages", True),
        ("PUT", "https://coda.io/apis/v1/docs/AbC/pages/canvas-x", True),
        ("POST", "https://coda.io/apis/v1/docs/AbC/pages/canvas-x/export", False),
        ("POST", "https://coda.io/apis/v1/docs/AbC/tables/grid-1/rows", False),
        ("GET", "https://coda.io/apis/v1/docs/AbC/pages", False),
    ],
)
def test_page_writes_are_paced_as_doc_content(method: str, url: str, content: bool) -> None:
    assert is_doc_content_write(method, url) is content
    assert rate_class_of(method, url) == ("read" if method == "GET" else "write")
