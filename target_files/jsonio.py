"""JSON text of the tree: exact numbers, UTF-8, the API's own strings.

singer-sdk parses numbers with a fraction into `decimal.Decimal`; `simplejson` (a
singer-sdk dependency, no new one) writes a Decimal back as the digits it was read from,
so `1.50` stays `1.50`. The standard library cannot write a Decimal as a number.
"""

from __future__ import annotations

import datetime
import decimal
import typing as t

import msgspec
import simplejson


def _default(obj: object) -> object:
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    return str(obj)


#: msgspec writes the same compact text as simplejson below (Decimal as its digits,
#: non-ASCII kept) several times faster; it is the CSV cell path for arrays. Same text for
#: JSON as `loads` parses it; a Python float, which parsing never makes, would print
#: `1e16` where simplejson prints `1e+16` (tests/unit/test_csvfile.py).
_COMPACT = msgspec.json.Encoder(enc_hook=_default, decimal_format="number")


def compact(obj: object) -> str:
    """One line: `{"a":[1,2]}` (CSV cells, JSON Lines)."""
    try:
        return _COMPACT.encode(obj).decode()
    except (TypeError, ValueError):  # e.g. a lone surrogate, which msgspec refuses
        return simplejson.dumps(
            obj,
            use_decimal=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=_default,
            ignore_nan=True,
        )


#: `pretty`'s layout: indent 2, non-ASCII kept, key order kept.
_PRETTY: dict[str, t.Any] = {
    "use_decimal": True,
    "ensure_ascii": False,
    "indent": 2,
    "default": _default,
    "ignore_nan": True,
}
#: How deep `write_pretty` splits containers: the manifest's lists, each doc's entry.
_SPLIT_DEPTH = 2


def pretty(obj: object) -> str:
    """Metadata files: indent 2, non-ASCII kept, key order kept, newline at the end."""
    return simplejson.dumps(obj, **_PRETTY) + "\n"


def write_pretty(obj: object, out: t.TextIO) -> None:
    """`pretty(obj)` written to `out` one part at a time, never whole in memory (the
    manifest of a large account is tens of MB, and simplejson's encoder gives no stream)."""
    for piece in _pretty_parts(obj, 0):
        out.write(piece)
    out.write("\n")


def _pretty_parts(obj: object, level: int) -> t.Iterator[str]:
    """The text of `obj` at nesting `level`, as `pretty` lays it out: a container's items
    on lines of their own, indented two spaces a level (JSON strings hold no newline)."""
    is_dict = isinstance(obj, dict) and all(isinstance(k, str) for k in obj)
    if level >= _SPLIT_DEPTH or not (is_dict or type(obj) is list) or not obj:
        text = simplejson.dumps(obj, **_PRETTY)
        yield text.replace("\n", "\n" + "  " * level) if level else text
        return
    assert isinstance(obj, (dict, list))  # for mypy: a dict or a list, not empty
    inner = "\n" + "  " * (level + 1)
    yield "{" if is_dict else "["
    items = obj.items() if isinstance(obj, dict) else ((None, v) for v in obj)
    for n, (key, value) in enumerate(items):
        yield ("," if n else "") + inner
        if is_dict:
            yield simplejson.dumps(key, **_PRETTY) + ": "
        yield from _pretty_parts(value, level + 1)
    yield "\n" + "  " * level + ("}" if is_dict else "]")


def state_line(state: object) -> str:
    """A STATE value as singer-sdk writes it (json.dumps layout), Decimal-safe."""
    return simplejson.dumps(state, use_decimal=True, default=_default, ignore_nan=True)


#: msgspec parses a Singer line several times faster than the json module.
_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
#: What `loads` raises on bad input.
DecodeError = msgspec.DecodeError


def loads(text: str | bytes) -> t.Any:
    """Parse JSON the way singer-sdk does (fractions as Decimal), so a re-write is exact."""
    return _DECODER.decode(text)
