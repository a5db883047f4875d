"""`runs.read_manifest_files`: the `files` table decoded alone (msgspec), with the same
answers as the full parse `manifest_files(read_manifest(...))` on every manifest shape."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from coda_backup import runs

GOOD = {
    "run_id": "r",
    "docs": [{"id": "d1", "pages": [{"id": "p1", "path": "docs/x.md"}]}],
    "files": {
        "docs/x.md": {"sha256": "AB" * 32, "size": 3, "mtime_ns": 7},
        "summary.json": {"sha256": "cd" * 32, "size": 9},
    },
}


def both(tmp_path: Path, body: str) -> tuple[t.Any, t.Any]:
    """What each reader makes of one manifest text: its table, or the error's class."""
    (tmp_path / runs.MANIFEST).write_text(body, encoding="utf-8")
    answers = []
    for read in (runs.read_manifest_files, lambda d: runs.manifest_files(runs.read_manifest(d))):
        try:
            answers.append(read(tmp_path))
        except ValueError as exc:
            answers.append((ValueError, str(exc).split(" (")[0]))
    return answers[0], answers[1]


def test_a_good_table_reads_the_same_both_ways_digests_lower_cased(tmp_path: Path) -> None:
    fast, full = both(tmp_path, json.dumps(GOOD))
    assert fast == full
    assert fast["docs/x.md"].sha256 == "ab" * 32
    assert fast["summary.json"].mtime_ns is None


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"run_id": "r"}),  # written before checksums existed
        json.dumps({"files": []}),
        json.dumps({"files": {"a": "not an object"}}),
        json.dumps({"files": {"a": {"size": 1}}}),
        json.dumps({"files": {"a": {"sha256": "ab", "size": "1"}}}),
        json.dumps([1, 2]),
        '{"files": {',
    ],
)
def test_every_malformed_table_is_a_value_error_both_ways(tmp_path: Path, body: str) -> None:
    fast, full = both(tmp_path, body)
    assert isinstance(fast, tuple) and fast[0] is ValueError, fast
    assert isinstance(full, tuple) and full[0] is ValueError, full


def test_no_table_says_why_in_the_same_words(tmp_path: Path) -> None:
    fast, full = both(tmp_path, json.dumps({"run_id": "r"}))
    assert fast == full
