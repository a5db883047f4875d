"""The naming plan (target_files/layout.py): stems per folder, page folders, other streams."""

from __future__ import annotations

from target_files import layout


def test_claim_sorted_does_not_depend_on_arrival_order() -> None:
    plan = [("Notes", "b"), ("notes", "a"), ("Other", "c")]
    got = layout.claim_sorted(plan)
    assert got == layout.claim_sorted(list(reversed(plan)))
    assert got == {"a": "notes", "b": "Notes__2", "c": "Other"}


def test_page_places_nest_children_under_the_parent_stem() -> None:
    pages = [("p2", "Child", "p1"), ("p1", "Top", None), ("p3", "Orphan", "gone")]
    got = layout.page_places(pages)
    top = got["p1"][1]
    assert got["p1"] == ((), top)
    assert got["p2"][0] == (top,)
    assert got["p3"][0] == ()  # its parent is not listed: at the top


def test_page_places_break_parent_cycles_at_the_top() -> None:
    pages = [("a", "A", "b"), ("b", "B", "a"), ("c", "A", None)]
    got = layout.page_places(pages)
    assert set(got) == {"a", "b", "c"}
    assert got["a"][0] == ()  # smallest id of the cycle
    assert got["b"][0] == (got["a"][1],)
    top = [stem for folder, stem in got.values() if folder == ()]
    assert len({layout.fold(s) for s in top}) == len(top)  # no clash with c at the top


def test_table_places_split_tables_and_views() -> None:
    got = layout.table_places(
        [("t1", "table", "Page", "Tasks"), ("v1", "view", "Page", "Tasks"), ("t2", None, None, "X")]
    )
    assert got["t1"][0] == "table"
    assert got["v1"][0] == "view"
    assert got["t2"][0] == "table"
    assert got["t1"][1] == "Page__Tasks__t1"
    assert got["t2"][1] == "X__t2"


def test_other_paths() -> None:
    assert layout.other_paths(["users", "Users"]) == {
        "Users": "other/Users.jsonl",
        "users": "other/users__2.jsonl",
    }


def test_past_the_depth_budget_children_start_again_at_the_top() -> None:
    stem = "x" * 200 + "__canvas-1"
    folder: tuple[str, ...] = ()
    depths = []
    for _ in range(30):
        folder = layout.children_folder(folder, stem)
        assert len("/".join(folder).encode()) <= layout.PAGE_FOLDERS_BUDGET
        depths.append(len(folder))
    assert max(depths) == layout.PAGE_FOLDERS_BUDGET // (len(stem) + 1)
    assert depths.count(1) > 1  # restarted at the top, named by the parent's stem
