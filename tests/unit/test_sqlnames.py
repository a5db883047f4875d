"""Table stream names (tap_coda/sqlnames.py): SQL-safe, readable, unique, rename rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tap_coda import sqlnames
from tap_coda.sqlnames import TableRef


def test_a_name_is_the_doc_and_table_words() -> None:
    assert sqlnames.base_name("Product Launch Hub", "Tasks") == "product_launch_hub__tasks"
    assert sqlnames.base_name("Chloé's Q3 plan!", "Café — Ventes") == "chloe_s_q3_plan__cafe_ventes"


@given(st.text(max_size=300), st.text(max_size=300))
def test_every_name_is_an_unquoted_sql_identifier_of_at_most_63_bytes(doc: str, table: str) -> None:
    refs = [TableRef("d1", "grid-a-B", doc, table), TableRef("d1", "grid-a-b", doc, table)]
    names = sqlnames.stream_names(refs)
    for name in names.values():
        assert sqlnames.is_valid(name), name
        assert "-" not in name
    assert len(set(names.values())) == 2


@given(
    st.from_regex(r"[A-Za-z]{3,12}( [A-Za-z]{3,12}){0,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{3,12}( [A-Za-z]{3,12}){0,12}", fullmatch=True),
)
def test_a_word_of_the_doc_and_of_the_table_survives(doc: str, table: str) -> None:
    name = sqlnames.base_name(doc, table)
    doc_part, table_part = name.split(sqlnames.SEPARATOR)
    assert doc.split(maxsplit=1)[0].lower() in doc_part
    assert table.split(maxsplit=1)[0].lower() in table_part


def test_names_without_letters_still_make_a_name() -> None:
    assert sqlnames.base_name("🚀🚀", "…") == "doc__table"
    assert sqlnames.base_name("2026 plan", "x")[0].isalpha()


def test_clashing_names_all_get_a_stable_suffix_whatever_the_order() -> None:
    refs = [
        TableRef("d1", "grid-1", "Hub", "Tasks"),
        TableRef("d1", "grid-2", "Hub", "Tasks"),
        TableRef("d1", "grid-3", "Hub", "Other"),
    ]
    names = sqlnames.stream_names(refs)
    assert names == sqlnames.stream_names(list(reversed(refs)))
    assert len(set(names.values())) == 3
    assert names["d1", "grid-3"] == "hub__other"
    for key in (("d1", "grid-1"), ("d1", "grid-2")):
        assert names[key].startswith("hub__tasks_")
        assert names[key].endswith(sqlnames.id_suffix(*key))


def test_a_generic_stream_name_is_never_taken() -> None:
    names = sqlnames.stream_names([TableRef("d", "t", "", "")], taken={"doc__table"})
    assert names["d", "t"] != "doc__table"


def test_rename_rule_a_rename_gives_a_new_name_at_the_next_discovery() -> None:
    before = sqlnames.stream_names([TableRef("d", "t", "Hub", "Tasks")])
    after = sqlnames.stream_names([TableRef("d", "t", "Hub", "To-dos")])
    assert before["d", "t"] == "hub__tasks"
    assert after["d", "t"] == "hub__to_dos"
    renamed = [{"id": "c-1", "name": "State"}]
    assert sqlnames.property_names(renamed) == ["State"]  # was "Status": a new column


def test_property_names_follow_the_csv_header_rule() -> None:
    columns = [
        {"id": "c-1", "name": "Name"},
        {"id": "c-2", "name": "Name"},
        {"id": "c-3", "name": "Name__2"},
        {"id": "c-4", "name": "_row_id"},
        {"id": "c-5", "name": ""},
        {"id": "c-6", "name": "_unparsed"},
    ]
    assert sqlnames.property_names(columns) == [
        "Name",
        "Name__3",
        "Name__2",
        "_row_id__2",
        "c-5",
        "_unparsed__2",
    ]
