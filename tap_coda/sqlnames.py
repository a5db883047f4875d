"""Names of the table streams: SQL-safe, readable, unique, and what a rename does to them.

A table stream is named `<doc>__<table>` from the doc's and the table's names, each cut to
lower-case ASCII words joined by `_` (`Product Launch Hub` / `Tasks` →
`product_launch_hub__tasks`). The name is an unquoted SQL identifier of at most 63 bytes
(PostgreSQL's limit) without `-`, which singer-sdk's SQL targets would split into schema
and table. Names that would collide all get a short, stable suffix made from their ids,
so no name depends on the order Coda lists tables in.

Renames: a name is made from Coda's names at each discovery (Meltano discovers before
every run), so renaming a doc, table or column gives a new stream or property name: a new
warehouse table or column, read in full. The catalog metadata `coda-doc-id`,
`coda-table-id` and `coda-column-id` (tap_coda.tablestreams) name the source for whoever
needs to follow ids across renames. docs/RECORDS.md says so.
"""

from __future__ import annotations

import hashlib
import re
import typing as t
import unicodedata
from collections import Counter

from target_files import csvfile

#: PostgreSQL truncates identifiers past 63 bytes; every name here is ASCII.
MAX_NAME = 63
#: Of the 63, the doc part takes at most this much, so the table's words survive.
MAX_DOC_PART = 24
SEPARATOR = "__"
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def words(name: str | None) -> str:
    """A name as lower-case ASCII words joined by `_`: accents dropped, other letters,
    signs and spaces become separators (`Chloé's Q3 plan!` → `chloe_s_q3_plan`)."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_WORD.sub("_", ascii_only).strip("_")


def _cut(part: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near enough."""
    if len(part) <= limit:
        return part
    cut = part[:limit]
    boundary = cut.rfind("_")
    return (cut[:boundary] if boundary >= limit // 2 else cut).strip("_")


def id_suffix(*ids: str) -> str:
    """Six base-32 characters from the ids: the same for the same table on every run."""
    digest = hashlib.sha1("/".join(ids).encode("utf-8"), usedforsecurity=False).digest()
    return "".join("abcdefghijklmnopqrstuvwxyz234567"[b % 32] for b in digest[:6])


def base_name(doc_name: str | None, table_name: str | None) -> str:
    """The readable name of a table's stream, before collisions are resolved."""
    doc = _cut(words(doc_name) or "doc", MAX_DOC_PART)
    if doc[0].isdigit():
        doc = f"d_{doc}"[:MAX_DOC_PART]
    room = MAX_NAME - len(doc) - len(SEPARATOR) - len("_") - 6  # a suffix always fits
    table = _cut(words(table_name) or "table", room)
    return f"{doc}{SEPARATOR}{table}"


class TableRef(t.NamedTuple):
    doc_id: str
    table_id: str
    doc_name: str | None
    table_name: str | None


def stream_names(
    tables: t.Sequence[TableRef], taken: t.Iterable[str] = ()
) -> dict[tuple[str, str], str]:
    """`(doc id, table id)` → stream name for every table: unique among themselves and
    `taken` (the generic streams' names)."""
    reserved = set(taken)
    out: dict[tuple[str, str], str] = {}
    bases = {(ref.doc_id, ref.table_id): base_name(ref.doc_name, ref.table_name) for ref in tables}
    counts = Counter(bases.values())
    for key, name in bases.items():
        clash = counts[name] > 1 or name in reserved
        out[key] = f"{name}_{id_suffix(*key)}" if clash else name
    return out


def is_valid(name: str) -> bool:
    """What every stream name here is: an unquoted lower-case SQL identifier, ≤63 bytes."""
    return (
        len(name.encode("utf-8")) <= MAX_NAME
        and re.fullmatch(r"[a-z_][a-z0-9_]*", name) is not None
        and "-" not in name
    )


#: The row fields every table stream starts with: the CSV's first six columns.
ROW_FIELDS = csvfile.ROW_FIELDS
#: Where values that do not fit their column's type are kept (tap_coda.cells).
UNPARSED = "_unparsed"


def property_names(columns: t.Sequence[t.Mapping[str, t.Any]]) -> list[str]:
    """Each column's property name, as the CSV header names it: its name (its id when the
    name is empty), and `Name__2`, `Name__3` for the later of equal names (the row fields
    and `_unparsed` come first). The CSV's own rule, so the two can never drift apart."""
    return csvfile.dedupe([csvfile.column_label(c) for c in columns], taken={*ROW_FIELDS, UNPARSED})
