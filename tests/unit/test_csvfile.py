"""CSV headers and cells (DESIGN.md "CSV"), read back with the csv module."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson
from hypothesis import given
from hypothesis import strategies as st

from target_files import csvfile, jsonio

PREFIX = ["_row_id", "_row_name", "_row_index", "_created_at", "_updated_at", "_browser_link"]


@pytest.fixture(autouse=True)
def _big_cells() -> None:
    csv.field_size_limit(2**31 - 1)


def column(cid: str, name: str, position: int) -> dict:
    return {"id": cid, "name": name, "position": position, "doc_id": "d", "table_id": "t"}


def row(rid: str, index: int, values: dict) -> dict:
    return {
        "id": rid,
        "name": f"name of {rid}",
        "index": index,
        "createdAt": "2026-03-07T10:15:30.000Z",
        "updatedAt": "2026-03-08T00:00:00.123Z",
        "browserLink": f"https://coda.io/d/_d#_r{rid}",
        "values": values,
    }


def write_table(path: Path, columns: list[dict], rows: list[dict]) -> None:
    ordered = csvfile.ordered_columns(columns)
    ids = [c["id"] for c in ordered]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csvfile.writer(fh)
        w.writerow(csvfile.header(ordered))
        for r in rows:
            w.writerow(csvfile.row_cells(r, ids))


def read_back(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_duplicate_and_prefix_clashing_headers() -> None:
    names = ["Name", "Name", "_row_id", "Name", "_created_at", "Other"]
    cols = [column(f"c-{i}", n, i) for i, n in enumerate(names)]
    assert csvfile.header(cols) == [
        *PREFIX,
        "Name",
        "Name__2",
        "_row_id__2",
        "Name__3",
        "_created_at__2",
        "Other",
    ]


def test_dedupe_keeps_literal_suffix_names() -> None:
    assert csvfile.dedupe(["A", "A", "A__2"]) == ["A", "A__3", "A__2"]
    assert csvfile.dedupe(["x", "X"]) == ["x", "X"]  # CSV headers are case-sensitive


def test_header_follows_position_not_arrival() -> None:
    cols = [column("c-b", "B", 2), column("c-a", "A", 0), column("c-m", "M", 1)]
    assert csvfile.header(csvfile.ordered_columns(cols)) == [*PREFIX, "A", "M", "B"]
    assert csvfile.column_label({"id": "c-x", "name": ""}) == "c-x"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (12345678901234567890, "12345678901234567890"),
        (1.5, "1.5"),
        (Decimal("1.50"), "1.50"),
        (Decimal("-0.000001"), "-0.000001"),
        ("plain", "plain"),
        ("", ""),
        ("a,b", "a,b"),
        ('say "hi"', 'say "hi"'),
        ("line1\nline2\r\nline3", "line1\nline2\r\nline3"),
        ("2026-03-07T10:15:30.000Z", "2026-03-07T10:15:30.000Z"),
        (["a", "b"], '["a","b"]'),
        ([["x", 1], [True, None]], '[["x",1],[true,null]]'),
        ({"name": "Zoë", "n": Decimal("2.50")}, '{"name":"Zoë","n":2.50}'),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_cells(value: object, expected: str) -> None:
    assert csvfile.cell(value) == expected


def test_round_trip_of_every_kind_of_cell(tmp_path: Path) -> None:
    big = 'é,"x"\n' * 30_000  # a cell over 200 KB with commas, quotes, newlines
    values_per_row = [
        {"c-s": "a, b", "c-q": 'he said "no"', "c-n": "multi\nline\r\ncell", "c-b": True},
        {"c-s": None, "c-q": 7, "c-n": Decimal("3.14159"), "c-b": False},
        {"c-s": ["x", ["nested", 2]], "c-q": {"k": [1, {"z": None}]}, "c-n": 1.25, "c-b": None},
        {"c-s": big, "c-q": "", "c-n": -1, "c-b": "true"},
    ]
    cols = [
        column("c-s", "Text", 0),
        column("c-q", "Quote", 1),
        column("c-n", "Num", 2),
        column("c-b", "Done", 3),
    ]
    rows = [row(f"i-{n}", n, v) for n, v in enumerate(values_per_row)]
    path = tmp_path / "t.csv"
    write_table(path, cols, rows)
    got = read_back(path)
    assert got[0] == [*PREFIX, "Text", "Quote", "Num", "Done"]
    assert len(got) == 1 + len(rows)
    for r, cells in zip(rows, got[1:], strict=True):
        expected = [
            r["id"],
            r["name"],
            str(r["index"]),
            r["createdAt"],
            r["updatedAt"],
            r["browserLink"],
        ]
        for cid in ("c-s", "c-q", "c-n", "c-b"):
            v = r["values"].get(cid)
            if v is None:
                expected.append("")
            elif isinstance(v, bool):
                expected.append(str(v).lower())
            elif isinstance(v, (list, dict)):
                expected.append(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
            else:
                expected.append(str(v))
        assert cells == expected
    assert got[4][6] == big
    assert len(big.encode()) > 200_000


def test_empty_table_gets_its_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_table(path, [column("c-1", "Only", 0)], [])
    assert read_back(path) == [[*PREFIX, "Only"]]


def test_wide_table(tmp_path: Path) -> None:
    cols = [column(f"c-{i}", f"Col {i % 200}", 249 - i) for i in range(250)]
    rows = [row(f"i-{n}", n, {f"c-{i}": i * n for i in range(250)}) for n in range(3)]
    path = tmp_path / "wide.csv"
    write_table(path, cols, rows)
    got = read_back(path)
    by_position = sorted(cols, key=lambda c: c["position"])
    assert len(got[0]) == 6 + 250
    assert len(set(got[0])) == 256  # duplicates were renamed
    for n, cells in enumerate(got[1:]):
        assert cells[6:] == [str(int(c["id"][2:]) * n) for c in by_position]


def test_values_of_unknown_columns_are_not_written() -> None:
    cells = csvfile.row_cells(row("i-1", 0, {"c-1": "a", "c-gone": "b"}), ["c-1"])
    assert cells[6:] == ["a"]


def test_remap_by_column_id() -> None:
    old = ["i-1", "n", "0", "c", "u", "l", "A", "B"]
    assert csvfile.remap(old, ["c-a", "c-b"], ["c-b", "c-new", "c-a"]) == [
        "i-1",
        "n",
        "0",
        "c",
        "u",
        "l",
        "B",
        "",
        "A",
    ]


# -- compact JSON cells: msgspec must write what simplejson wrote --------------------------
# The values are JSON as the target parses it (fractions and exponents as Decimal, never a
# Python float): the text must stay byte for byte what the simplejson version wrote.

_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _simplejson_compact(value: object) -> str:
    return simplejson.dumps(
        value, use_decimal=True, ensure_ascii=False, separators=(",", ":"), ignore_nan=True
    )


def test_compact_json_keeps_simplejsons_text_for_every_low_code_point() -> None:
    text = "".join(chr(i) for i in range(0x300)) + "\u2028\u2029\ufeff\U0001f600"
    value = jsonio.loads(
        simplejson.dumps({"s": text, "n": [Decimal("1.50"), Decimal("1E+16"), Decimal("-0.0")]})
    )
    assert jsonio.compact(value) == _simplejson_compact(value)


@given(_JSON_VALUES)
def test_compact_json_keeps_simplejsons_text(value: object) -> None:
    parsed = jsonio.loads(simplejson.dumps(value, use_decimal=True))
    assert jsonio.compact(parsed) == _simplejson_compact(parsed)
