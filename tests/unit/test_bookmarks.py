"""Bookmarks of damaged copies are dropped from the emitted STATE (target_files/bookmarks.py)."""

from __future__ import annotations

from target_files.bookmarks import without_damaged


def part(**context: str) -> dict:
    return {"context": context, "replication_key_value": "x"}


STATE = {
    "bookmarks": {
        "page_contents": {
            "partitions": [
                part(doc_id="d", page_id="p1", format="markdown"),
                part(doc_id="d", page_id="p1", format="html"),
                part(doc_id="d", page_id="p2", format="markdown"),
                part(doc_id="e", page_id="p1", format="markdown"),
            ]
        },
        "rows": {"partitions": [part(doc_id="d", table_id="t1"), part(doc_id="d", table_id="t2")]},
        "docs": {"replication_key_value": "y"},
    }
}


def test_damaged_pages_and_tables_lose_their_bookmarks_only() -> None:
    damaged = [
        {"object_type": "page", "doc_id": "d", "object_id": "p1"},
        {"object_type": "table", "doc_id": "d", "object_id": "t2"},
        {"object_type": "doc", "doc_id": "d", "object_id": "d"},  # has no bookmark of its own
    ]
    got = without_damaged(STATE, damaged)
    pages = got["bookmarks"]["page_contents"]["partitions"]
    assert [(p["context"]["doc_id"], p["context"]["page_id"]) for p in pages] == [
        ("d", "p2"),
        ("e", "p1"),
    ]
    assert [p["context"]["table_id"] for p in got["bookmarks"]["rows"]["partitions"]] == ["t1"]
    assert got["bookmarks"]["docs"] == STATE["bookmarks"]["docs"]
    assert len(STATE["bookmarks"]["rows"]["partitions"]) == 2  # the input is not changed


def test_nothing_damaged_keeps_the_state() -> None:
    assert without_damaged(STATE, []) == STATE
    assert without_damaged({}, [{"object_type": "page", "doc_id": "d", "object_id": "p"}]) == {}
