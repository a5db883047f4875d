"""The staging area (target_files/staging.py): what arrives is kept by id, in order."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from singer_sdk.exceptions import InvalidRecord

from target_files import fsutil
from target_files.staging import Staging, problems

PERMS = fsutil.Perms(private=True, fsync=False)


def staging(tmp_path: Path) -> Staging:
    return Staging(tmp_path / ".staging", PERMS)


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_rows_before_columns_are_spooled_then_laid_out(tmp_path: Path) -> None:
    st = staging(tmp_path)
    st.add_row({"doc_id": "d", "table_id": "t", "id": "r1", "values": {"c1": "x"}})
    st.add_column({"doc_id": "d", "table_id": "t", "id": "c1", "name": "A", "position": 0})
    st.add_row({"doc_id": "d", "table_id": "t", "id": "r2", "values": {"c1": "y"}})
    st.add_table({"doc_id": "d", "id": "t", "name": "T", "rowCount": 2})
    st.add_doc({"id": "d"})
    st.close()
    table = st.tables[("d", "t")]
    assert (table.rows, table.column_ids) == (2, ["c1"])
    got = csv_rows(table.csv_path)
    assert [r[0] for r in got[1:]] == ["r1", "r2"]
    assert [r[-1] for r in got[1:]] == ["x", "y"]
    assert problems(st) == []


def test_a_later_export_of_the_same_page_wins(tmp_path: Path) -> None:
    st = staging(tmp_path)
    for text in ("old", "new"):
        st.add_page_content({"doc_id": "d", "page_id": "p", "format": "markdown", "content": text})
    path = st.pages[("d", "p")].contents["markdown"].path
    assert path.read_text(encoding="utf-8") == "new"
    assert len(list((tmp_path / ".staging" / "pages").iterdir())) == 1


def test_children_without_their_parent_are_problems(tmp_path: Path) -> None:
    st = staging(tmp_path)
    st.add_column({"doc_id": "d", "table_id": "t", "id": "c1"})
    st.add_page({"doc_id": "d", "id": "p"})
    st.close()
    assert len(problems(st)) == 2  # table without `tables`, doc without `docs`


def test_unknown_columns_and_bad_values_are_noted(tmp_path: Path) -> None:
    st = staging(tmp_path)
    st.add_column({"doc_id": "d", "table_id": "t", "id": "c1"})
    st.add_row({"doc_id": "d", "table_id": "t", "id": "r1", "values": {"c9": 1}})
    st.add_row({"doc_id": "d", "table_id": "t", "id": "r2", "values": [1]})
    assert st.tables[("d", "t")].unknown_ids == {"c9"}
    assert st.invalid.counts == {"rows": 1}


def test_records_without_ids_and_dry_runs_are_refused(tmp_path: Path) -> None:
    st = staging(tmp_path)
    with pytest.raises(InvalidRecord):
        st.add_row({"doc_id": "d", "table_id": "t"})
    with pytest.raises(InvalidRecord):
        st.add_table_sync({"doc_id": "d", "table_id": "t", "mode": "full", "dry_run": True})
