"""What an API object must look like before the tap relies on it: pure checks, no I/O.

Coda's answers are looser than its spec, and a hostile or broken one can send anything. The
tap and the target rely on a few fields of each object (ids, names, timestamps compared
with bookmarks, parents, counts); an object whose field is of another type, whose id is
missing or whose name is null fails alone (a failure record, with its children) instead of
crashing the run. Fields not listed here are carried as they come.
"""

from __future__ import annotations

import typing as t

from tap_coda.errors import CodaRequestError

__all__ = ["ShapeError", "checked", "problem"]

#: JSON types by name (bool apart from int: True is an int in Python).
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}

_COMMON = {"updatedAt": "string", "createdAt": "string", "browserLink": "string"}
#: Per kind, the fields that must have this JSON type when present and not null.
FIELDS: dict[str, dict[str, str]] = {
    "doc": {**_COMMON, "docSize": "object", "workspace": "object", "folder": "object"},
    "page": {
        **_COMMON,
        "contentType": "string",
        "parent": "object",
        "children": "array",
        "isHidden": "boolean",
        "isEffectivelyHidden": "boolean",
    },
    "table": {
        **_COMMON,
        "tableType": "string",
        "parent": "object",
        "parentTable": "object",
        "rowCount": "integer",
        "displayColumn": "object",
    },
    "column": {**_COMMON, "format": "object", "display": "boolean", "calculated": "boolean"},
    "row": {**_COMMON, "index": "integer", "values": "object"},
}
#: Fields every object must have as a string (ids also non-empty).
REQUIRED = ("id", "name")


class ShapeError(CodaRequestError):
    """An API object that is not what the tap relies on (not retried: it would not change)."""


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for name, types in _TYPES.items():
        if isinstance(value, types):
            return name
    return type(value).__name__


def _is(value: object, wanted: str) -> bool:
    return isinstance(value, _TYPES[wanted]) and (
        wanted in ("boolean",) or not isinstance(value, bool)
    )


#: Per kind, each checked field with the exact types that pass it at once: what a JSON
#: parser builds. Every row goes through `problem`; anything else takes the full check.
_EXACT: dict[str, tuple[tuple[str, frozenset[type]], ...]] = {
    kind: tuple(
        (key, frozenset({bool} if wanted == "boolean" else set(_TYPES[wanted])))
        for key, wanted in fields.items()
    )
    for kind, fields in FIELDS.items()
}


def _fits(kind: str, obj: dict[str, t.Any]) -> bool:
    """True when `obj`'s checked fields are all of their exact types (or absent or null)."""
    get = obj.get  # a plain loop, REQUIRED spelled out: this runs for every row
    if not get("id") or type(get("id")) is not str or type(get("name")) is not str:
        return False
    for key, exact in _EXACT[kind]:
        value = get(key)
        if value is not None and type(value) not in exact:
            return False
    return True


def problem(kind: str, obj: object) -> str | None:
    """Why `obj` (an API object of `kind`) cannot be relied on, in one line; None if it can."""
    if type(obj) is dict and _fits(kind, obj):
        return None
    return full_problem(kind, obj)


def full_problem(kind: str, obj: object) -> str | None:
    """`problem` without the shortcut for objects as a JSON parser builds them."""
    if not isinstance(obj, dict):
        return f"the {kind} is {_kind_of(obj)}, not an object"
    for key in REQUIRED:
        value = obj.get(key)
        if not isinstance(value, str) or (key == "id" and not value):
            shown = "missing" if key not in obj else _kind_of(value)
            what = "empty" if value == "" else shown
            return f"the {kind}'s {key!r} is {what}, not a string"
    for key, wanted in FIELDS[kind].items():
        value = obj.get(key)
        if value is not None and not _is(value, wanted):
            return f"the {kind}'s {key!r} is {_kind_of(value)}, not {wanted}"
    return None


def checked(kind: str, objects: t.Iterable[t.Any]) -> t.Iterator[dict[str, t.Any]]:
    """`objects` as they come, until one is not well formed: `ShapeError` (the listing fails
    from there, as when its connection breaks)."""
    for obj in objects:
        if (why := problem(kind, obj)) is not None:
            ident = obj.get("id") if isinstance(obj, dict) else None
            raise ShapeError(f"{why} ({kind} {ident!r})" if isinstance(ident, str) else why)
        yield obj
