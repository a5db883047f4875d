"""`safe()` and the naming rules of the backup tree (DESIGN.md "Target: configuration and tree")."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from target_files import layout

FORBIDDEN = set('<>:"/\\|?*')
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "123456789"}
EXTS = ["", ".md", ".html", ".csv", ".jsonl", *layout.TABLE_EXTS]


def assert_portable_name(name: str) -> None:
    assert name
    assert not FORBIDDEN & set(name)
    assert all(unicodedata.category(c) not in ("Cc", "Cs") for c in name)
    assert not name.startswith(".")
    assert not name.endswith((".", " "))
    assert name.split(".", 1)[0].rstrip(" ").upper() not in RESERVED
    assert unicodedata.is_normalized("NFC", name)
    assert len(name.encode("utf-8")) <= layout.MAX_NAME_BYTES


def assert_stays_inside(folder: Path, name: str) -> None:
    joined = (folder / name).resolve()
    assert joined.parent == folder.resolve()
    assert joined != folder.resolve()


any_text = st.text(st.characters(codec=None), max_size=400)
hostile = st.lists(
    st.sampled_from(
        [
            ".",
            "..",
            "/",
            "\\",
            " ",
            "\x00",
            "\u202e",
            "\u200b",
            "\ufeff",
            "CON",
            "lpt1",
            "é",
            "e\u0301",
            "👨\u200d👩\u200d👧",
            "🇫🇷",
            "\ud800",
            "a",
            "日本",
            "\n",
            "\u2028",
        ]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(name=st.one_of(any_text, hostile), obj_id=st.one_of(any_text, hostile))
@example(name="..", obj_id="..")
@example(name="CON", obj_id="x")
@example(name="x" * 1000, obj_id="y" * 1000)
@example(name="é" * 300, obj_id="id")
def test_safe_and_stem_properties(name: str, obj_id: str) -> None:
    folder = Path("/srv/backups/run")
    plain = layout.safe(name)
    assert_portable_name(plain)
    assert_stays_inside(folder, plain)
    for ext in EXTS:
        stem = layout.stem([name], obj_id, ext)
        file_name = stem + ext
        assert_portable_name(file_name)
        assert len(file_name.encode("utf-8")) + layout.COLLISION_RESERVE <= layout.MAX_NAME_BYTES
        assert_stays_inside(folder, file_name)
        assert layout.child(folder, file_name).parent == folder
    two = layout.stem([name, obj_id], obj_id)
    assert len((two + layout.LONGEST_EXT).encode("utf-8")) < layout.MAX_NAME_BYTES
    assert_portable_name(two + layout.LONGEST_EXT)


@given(st.text(max_size=60))
def test_safe_is_idempotent(name: str) -> None:
    once = layout.safe(name)
    assert layout.safe(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"),  # each forbidden character → _
        ("tab\there\nnewline", "tab_here_newline"),  # control characters → _
        ("ends with dot.", "ends with dot"),  # no trailing dot
        ("ends with space   ", "ends with space"),  # no trailing space
        ("...", "_"),  # nothing left → _
        (".hidden", "_.hidden"),  # no leading dot
        ("..", "_"),
        ("", "_"),
        ("CON", "_CON"),  # reserved Windows names, any case, any extension
        ("con", "_con"),
        ("Aux.txt", "_Aux.txt"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("COM1", "_COM1"),
        ("lpt9.md", "_lpt9.md"),
        ("CONSOLE", "CONSOLE"),  # only exact device names are reserved
        ("e\u0301te\u0301", "\u00e9t\u00e9"),  # NFC
        ("\u202egpj.exe", "gpj.exe"),  # bidi override removed
        ("zero\u200bwidth\ufeff", "zerowidth"),  # zero-width marks removed
        ("Launch Status", "Launch Status"),  # readable names stay as they are
        ("Q3: “Plans” / <draft>?", "Q3_ “Plans” _ _draft__"),
    ],
)
def test_safe_examples(raw: str, expected: str) -> None:
    assert layout.safe(raw) == expected


def test_safe_cuts_at_character_boundaries() -> None:
    name = layout.safe("é" * 200, 101)  # 2 bytes each: 50 fit in 101 bytes
    assert name == "é" * 50
    family = "👨\u200d👩\u200d👧"  # one grapheme, 18 bytes
    cut = layout.safe(family * 3, 40)
    assert cut == family * 2  # never half a ZWJ sequence
    flags = "🇫🇷🇩🇪"  # two flags of two regional indicators each (8 bytes per flag)
    assert layout.safe(flags, 12) == "🇫🇷"
    assert layout.safe("abcCONxyz", 3) == "abc"
    assert layout.safe("CONSOLE", 3) == "_CO"  # a cut that would leave "CON" is prefixed


def test_stem_shape_and_budget() -> None:
    assert layout.stem(["Launch Status", "Tasks"], "grid-pqRst-U") == (
        "Launch Status__Tasks__grid-pqRst-U"
    )
    assert layout.stem(["Product Launch Hub"], "AbCDeFGH") == "Product Launch Hub__AbCDeFGH"
    long_page, long_table = "P" * 400, "T" * 400
    stem = layout.stem([long_page, long_table], "grid-1")
    page_part, table_part, id_part = stem.split("__")
    assert id_part == "grid-1"
    assert abs(len(page_part) - len(table_part)) <= 1  # the budget is shared fairly
    assert len((stem + layout.LONGEST_EXT).encode()) + layout.COLLISION_RESERVE <= 255
    short = layout.stem(["Tiny", "T" * 400], "grid-1")
    assert short.startswith("Tiny__TTT")  # a short part keeps all of its share


def test_hostile_ids_are_made_safe() -> None:
    stem = layout.stem(["x"], "../../etc/passwd")
    assert "/" not in stem
    assert layout.child(Path("/r"), stem).parent == Path("/r")


def test_folder_names_disambiguate_case_insensitively() -> None:
    names = layout.FolderNames()
    bases = sorted(
        ["Notes__canvas-Case1", "NOTES__canvas-case1", "notes__CANVAS-CASE1"],
        key=lambda b: (layout.fold(b), b),
    )
    claimed = [names.claim(b, [".md", ".html"]) for b in bases]
    assert claimed[0] == bases[0]
    assert claimed[1] == f"{bases[1]}__2"
    assert claimed[2] == f"{bases[2]}__3"
    assert len({layout.fold(c) for c in claimed}) == 3
    # a stem must not collide with another entry's file name either
    other = layout.FolderNames(["a.md"])
    assert other.claim("a", [".md"]) == "a__2"


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a\\b", "x\x00", "y" * 256])
def test_child_refuses_unsafe_components(bad: str) -> None:
    with pytest.raises(ValueError, match="unsafe path component"):
        layout.child(Path("/r"), bad)


def test_page_ext_and_table_folder() -> None:
    assert layout.page_ext("markdown") == ".md"
    assert layout.page_ext("html") == ".html"
    assert layout.page_ext("we/ird") == ".we_ird"
    assert layout.table_folder("table") == "table"
    assert layout.table_folder("view") == "view"
    assert layout.table_folder("View") == "view"
    assert layout.table_folder(None) == "table"
    assert layout.table_folder("a/b") == "a_b"
