"""Typed cells (tap_coda/cells.py): a column's schema and its rich values parsed."""

from __future__ import annotations

import typing as t
from decimal import Decimal

import jsonschema
import pytest

from tap_coda import cells


def fmt(kind: str, *, is_array: bool = False, **extra: t.Any) -> dict[str, t.Any]:
    return {"type": kind, "isArray": is_array, **extra}


MONEY = {"@context": "http://schema.org", "@type": "MonetaryAmount", "currency": "USD"}
PERSON = {"@context": "http://schema.org", "@type": "Person", "name": "Li", "email": "l@x.io"}

CASES: list[tuple[dict[str, t.Any], t.Any, t.Any]] = [
    (fmt("number"), 3, 3),
    (fmt("number"), Decimal("2.50"), Decimal("2.50")),
    (fmt("number"), "1e21", Decimal("1e21")),
    (fmt("percent"), Decimal("0.5"), Decimal("0.5")),
    (fmt("currency"), {**MONEY, "amount": Decimal("103000.00")}, Decimal("103000.00")),
    (fmt("currency"), {**MONEY, "amount": "12.5"}, Decimal("12.5")),
    (fmt("slider"), 7, 7),
    (fmt("scale"), 4, 4),
    (fmt("duration"), 90, 90),
    (fmt("checkbox"), True, True),
    (fmt("checkbox", displayType="toggle"), False, False),
    (fmt("date"), "2026-04-01", "2026-04-01"),
    (fmt("date"), "2026-04-01T00:00:00.000-07:00", "2026-04-01"),
    (fmt("dateTime"), "2026-04-01T09:30:00.000Z", "2026-04-01T09:30:00.000Z"),
    (fmt("time"), "09:30:00", "09:30:00"),
    (fmt("text"), "```plain```", "plain"),
    (fmt("text"), "**bold** text", "**bold** text"),
    (fmt("text"), "``````already fenced``````", "```already fenced```"),
    (fmt("select"), "Done", "Done"),
    (fmt("email"), "a@b.c", "a@b.c"),
    (fmt("select", is_array=True), ["A", "B"], ["A", "B"]),
    (fmt("select", is_array=True), "A", ["A"]),
    (fmt("text", is_array=True), [["```a```", "```b```"], ["```c```"]], [["a", "b"], ["c"]]),
    (fmt("person"), PERSON, {"name": "Li", "email": "l@x.io"}),
    (fmt("person", is_array=True), [PERSON], [{"name": "Li", "email": "l@x.io"}]),
    (
        fmt("image"),
        {"@type": "ImageObject", "url": "https://x/i.png", "width": 10},
        {"url": "https://x/i.png", "width": 10},
    ),
    (fmt("text"), 5, "5"),
]


@pytest.mark.parametrize(("column_format", "value", "expected"), CASES)
def test_rich_values_become_typed_values(
    column_format: dict[str, t.Any], value: t.Any, expected: t.Any
) -> None:
    parsed = cells.parser_for(column_format)(value)
    assert parsed == expected
    assert type(parsed) is type(expected)
    schema = cells.column_schema(column_format)
    jsonschema.validate(parsed if not isinstance(parsed, Decimal) else float(parsed), schema)


@pytest.mark.parametrize(
    "column_format",
    [fmt(k) for k in ("number", "checkbox", "date", "person", "text")]
    + [fmt("select", is_array=True)],
)
@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_cell_is_null(column_format: dict[str, t.Any], empty: t.Any) -> None:
    assert cells.parser_for(column_format)(empty) is None


@pytest.mark.parametrize(
    ("column_format", "value"),
    [
        (fmt("number"), "N/A"),
        (fmt("number"), True),
        (fmt("checkbox"), "maybe"),
        (fmt("date"), "next week"),
        (fmt("dateTime"), "2026-04-01"),
        (fmt("person"), "Li"),
        (fmt("select"), ["A", "B"]),  # several values in a single-valued column
    ],
)
def test_a_value_that_does_not_fit_is_refused_and_kept_as_its_string(
    column_format: dict[str, t.Any], value: t.Any
) -> None:
    with pytest.raises(cells.UnfitError):
        cells.parser_for(column_format)(value)
    kept = cells.unfit_text(value)
    assert isinstance(kept, str)
    assert kept == value or kept == cells.compact(value)


def test_schema_types_follow_the_format() -> None:
    assert cells.column_schema(fmt("currency"))["type"] == ["number", "null"]
    assert cells.column_schema(fmt("checkbox"))["type"] == ["boolean", "null"]
    assert cells.column_schema(fmt("date"))["format"] == "date"
    assert cells.column_schema(fmt("dateTime"))["format"] == "date-time"
    assert cells.column_schema(fmt("button"))["type"] == ["string", "null"]
    assert set(cells.column_schema(fmt("person"))["properties"]) == {"name", "email"}
    people = cells.column_schema(fmt("person", is_array=True))
    assert people == {"type": ["array", "null"]}  # items may nest: left open
    assert cells.column_schema(None)["type"] == ["string", "null"]
