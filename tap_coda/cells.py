"""Typed cells for the table streams: a column's JSON schema from its `format`, and its
cells parsed from Coda's `rich` values (NOTES §6-7), the one row format that keeps
currency amounts, people, lookups, links and images exact.

- number, percent, currency, slider, scale, duration: number (a currency's amount; a
  percent as the fraction Coda sends)
- checkbox (check or toggle): boolean
- date, dateTime, time: ISO 8601 string, `format` `date` / `date-time` / `time`
- person, lookup, link, image, imageReference, attachments, packObject: object (JSON-LD's
  `@` keys dropped)
- everything else (text, select, email, …): string (plain text unwrapped from its fence)

`isArray` columns are arrays of those (a single value becomes a one-item array; items are
not declared, since Coda's arrays may nest). An empty
cell is null, never "". A value that does not fit its column's type is not forced: the
property is null and the value, as its string, goes into the row's `_unparsed` object
under the property's name; the stream counts and logs them.
"""

from __future__ import annotations

import json
import re
import typing as t
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

Kind = t.Literal["number", "boolean", "date", "date-time", "time", "object", "string"]

_KINDS: dict[str, Kind] = {
    **dict.fromkeys(("number", "percent", "currency", "slider", "scale", "duration"), "number"),
    "checkbox": "boolean",
    "date": "date",
    "dateTime": "date-time",
    "time": "time",
    **dict.fromkeys(
        ("person", "lookup", "link", "image", "imageReference", "attachments", "packObject"),
        "object",
    ),
}

#: The fields each object kind is known to carry (declared so flattening targets keep
#: them; more may come, `additionalProperties` stays open).
_OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "person": ("name", "email"),
    "lookup": ("name", "url", "tableId", "rowId", "tableUrl"),
    "link": ("name", "url"),
    "image": ("name", "url", "width", "height", "status"),
    "imageReference": ("name", "url", "width", "height", "status"),
}
_TEXT_TYPES = frozenset({"text", "canvas"})
_NUMERIC = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_FENCE = "```"


class UnfitError(ValueError):
    """A value that does not fit its column's type (kept as its string, reported)."""


def kind_of(column_format: t.Mapping[str, t.Any] | None) -> Kind:
    return _KINDS.get(str((column_format or {}).get("type")), "string")


def _item_schema(column_format: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    kind = kind_of(column_format)
    if kind in ("number", "boolean"):
        return {"type": [kind, "null"]}
    if kind in ("date", "date-time", "time"):
        return {"type": ["string", "null"], "format": kind}
    if kind == "object":
        known = _OBJECT_FIELDS.get(str(column_format.get("type")), ("name", "url"))
        props = {name: {"type": ["string", "number", "null"]} for name in known}
        return {"type": ["object", "null"], "properties": props, "additionalProperties": True}
    return {"type": ["string", "null"]}


def column_schema(column_format: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    """The JSON schema of a column's property."""
    column_format = column_format or {}
    if column_format.get("isArray"):
        # The items are the single type's values, but Coda's arrays may nest (NOTES §7),
        # so they stay undeclared: SQL targets load the cell as one JSON value (jsonb).
        return {"type": ["array", "null"]}
    return _item_schema(column_format)


Parser = t.Callable[[t.Any], t.Any]


def _number(value: t.Any) -> t.Any:
    if isinstance(value, dict):  # MonetaryAmount
        value = value.get("amount")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())  # digit for digit, as the JSON decoder gives
        except InvalidOperation:
            pass
    raise UnfitError(value)


def _boolean(value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise UnfitError(value)


def _date(value: t.Any) -> str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            pass
    raise UnfitError(value)


def _datetime(value: t.Any) -> str:
    if isinstance(value, str) and len(value) > 10:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value  # ISO 8601 already: Coda's own string, exact
    raise UnfitError(value)


def _time(value: t.Any) -> str:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value).isoformat()
        except ValueError:
            try:
                return datetime.fromisoformat(value).timetz().isoformat()
            except ValueError:
                pass
    raise UnfitError(value)


def _object(value: t.Any) -> dict[str, t.Any]:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not k.startswith("@")}
    raise UnfitError(value)


def _text(value: t.Any) -> str:
    """Rich text is Markdown; plain text comes fenced in triple backticks (NOTES §7)."""
    if isinstance(value, str):
        fenced = len(value) >= 2 * len(_FENCE) and value.startswith(_FENCE)
        return value[3:-3] if fenced and value.endswith(_FENCE) else value
    return _string(value)


def _string(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return compact(value)


#: Per kind, the Python types whose values are that kind's value as they are (`bool` is
#: not a number here: `type(True)` is `bool`, never `int`).
_EXACT: dict[Kind, frozenset[type]] = {
    "string": frozenset({str}),
    "number": frozenset({int, float, Decimal}),
    "boolean": frozenset({bool}),
}

_PARSERS: dict[Kind, Parser] = {
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "date-time": _datetime,
    "time": _time,
    "object": _object,
    "string": _string,
}


def compact(value: t.Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def parser_for(column_format: t.Mapping[str, t.Any] | None) -> Parser:
    """How one column's `rich` cells become typed values (raises `UnfitError`)."""
    column_format = column_format or {}
    one = _PARSERS[kind_of(column_format)]
    if column_format.get("type") in _TEXT_TYPES:
        one = _text

    def item(value: t.Any) -> t.Any:
        if value is None or value == "":
            return None
        if isinstance(value, list):  # arrays may nest (NOTES §7)
            return [item(v) for v in value]
        return one(value)

    if not column_format.get("isArray"):
        # Most cells are already their typed value: returned at once (rows are the hot path).
        exact = frozenset() if one is _text else _EXACT.get(kind_of(column_format), frozenset())

        def single(value: t.Any) -> t.Any:
            kind = type(value)
            if kind in exact:
                return value if value != "" else None
            if value is None or value == "":
                return None
            if kind is list:
                raise UnfitError(value)
            return one(value)

        return single

    def many(value: t.Any) -> t.Any:
        if value is None or value in ("", []):
            return None
        return item(value if isinstance(value, list) else [value])

    return many


def unfit_text(value: t.Any) -> str:
    """What `_unparsed` keeps of a value that did not fit: its string."""
    return value if isinstance(value, str) else compact(value)
