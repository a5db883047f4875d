"""tap_coda.shapes: the shortcut for objects as a JSON parser builds them decides exactly as
the full check does, whatever the object holds."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tap_coda import shapes


class Text(str):
    """A str subclass: no JSON parser builds one, so it takes the full check."""


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.just(Decimal("1.5")),
    st.sampled_from(["", "x", "2026-01-01T00:00:00Z"]),
    st.builds(Text, st.sampled_from(["", "y"])),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=2), inner, max_size=2)
    ),
    max_leaves=4,
)
_KEYS = sorted({"id", "name", *(key for fields in shapes.FIELDS.values() for key in fields)})
_OBJECTS = st.one_of(st.dictionaries(st.sampled_from(_KEYS), _VALUES), _VALUES)


@given(kind=st.sampled_from(sorted(shapes.FIELDS)), obj=_OBJECTS)
def test_problem_is_the_full_check(kind: str, obj: object) -> None:
    assert shapes.problem(kind, obj) == shapes.full_problem(kind, obj)


def test_a_well_formed_row_passes_and_a_bad_one_says_why() -> None:
    row = {"id": "i-1", "name": "Row", "index": 3, "values": {"c-1": "v"}, "updatedAt": "t"}
    assert shapes.problem("row", row) is None
    assert (
        shapes.problem("row", {**row, "index": True}) == "the row's 'index' is boolean, not integer"
    )
    assert shapes.problem("row", {**row, "id": ""}) == "the row's 'id' is empty, not a string"
    assert shapes.problem("row", {**row, "name": Text("n")}) is None  # a str all the same
