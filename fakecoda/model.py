"""What a fake Coda account is made of: docs, pages, tables (and views), columns and rows as
plain dataclasses, the deterministic clock their timestamps come from, and two small pure
helpers every part of the fake shares (view filters, fixture Markdown → HTML).
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakecoda.doclogic import NamedValue, Sharing

VALUE_FORMATS = ("simple", "simpleWithArrays", "rich")


def iso(moment: datetime) -> str:
    """Coda's timestamp form: millisecond precision, `Z` suffix."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class FakeClock:
    """Deterministic clock: each tick advances `step`, so timestamps are reproducible."""

    current: datetime = field(
        default_factory=lambda: datetime(2026, 3, 7, 10, 15, 30, tzinfo=timezone.utc)
    )
    step: timedelta = timedelta(seconds=1)

    def now(self) -> str:
        return iso(self.current)

    def tick(self, step: timedelta | None = None) -> str:
        self.current += step if step is not None else self.step
        return iso(self.current)


@dataclass
class Column:
    id: str
    name: str
    format: dict[str, Any]
    calculated: bool = False
    formula: str | None = None
    display: bool = False
    default_value: str | None = None


@dataclass
class Row:
    id: str
    name: str
    values: dict[str, Any]  # column id -> value in simpleWithArrays form (None = blank cell)
    created_at: str
    updated_at: str
    version: int = 0


@dataclass
class Table:
    id: str
    name: str
    table_type: str  # "table" | "view"
    parent_page_id: str
    columns: list[Column]  # a view shares its base table's list object
    rows: list[Row]  # base tables only; a view's rows come from `Workspace.rows_of`
    created_at: str
    updated_at: str
    display_column_id: str
    layout: str = "default"
    base_table_id: str | None = None
    view_filter: dict[str, Any] | None = None
    sorts: list[tuple[str, str]] = field(default_factory=list)  # (column id, direction)
    # bumped on every change that alters this table's rendered JSON; keys render caches
    gen: int = field(default=0, compare=False, repr=False)


@dataclass
class Page:
    id: str
    name: str
    subtitle: str
    parent_id: str | None
    content_type: str  # "canvas" | "syncPage" | "embed" | "table"
    is_hidden: bool
    created_at: str
    updated_at: str
    markdown: str = ""
    html: str = ""
    export_fails: str | None = None  # error text when the async export ends `failed`
    icon: dict[str, str] | None = None
    image: dict[str, Any] | None = None  # the cover `Image`; browserLink may be an asset


@dataclass
class Doc:
    id: str
    name: str
    owner_email: str
    is_owner: bool
    listed: bool  # False: never opened, so absent from GET /docs, yet GET /docs/{id} works
    workspace_id: str
    workspace_name: str
    folder_id: str
    created_at: str
    updated_at: str
    over_api_size_limit: bool = False
    pages: list[Page] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    owner_name: str = ""
    folder_name: str = ""
    icon: dict[str, str] | None = None
    source_doc_id: str | None = None
    published: dict[str, Any] | None = None
    deleted_ids: set[str] = field(default_factory=set)  # pages/tables gone: 410 where Coda has it
    formulas: list[NamedValue] = field(default_factory=list)  # fakecoda.doclogic
    controls: list[NamedValue] = field(default_factory=list)
    sharing: Sharing | None = None


def stored_values(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Accept column ids or (first matching) names as keys; store by immutable id."""
    by_name: dict[str, str] = {}
    for col in table.columns:
        by_name.setdefault(col.name, col.id)
    ids = {c.id for c in table.columns}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in ids:
            out[key] = value
        elif key in by_name:
            out[by_name[key]] = value
        else:
            raise KeyError(f"no column {key!r} in table {table.id}")
    return out


FILTER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "equal": lambda value, operand: value == operand,
    "not_equal": lambda value, operand: value != operand,
    "contains": lambda value, operand: isinstance(value, list) and operand in value,
    "is_true": lambda value, operand: bool(value) is bool(operand),
    "is_empty": lambda value, operand: (value in (None, "", [])) is bool(operand),
}


def matches_filter(spec: dict[str, Any] | None, values: dict[str, Any]) -> bool:
    """The small view-filter language: {"column": id, <op>: operand} with an op of
    FILTER_OPS, or {"all": [specs]}; None matches every row."""
    if not spec:
        return True
    if "all" in spec:
        return all(matches_filter(s, values) for s in spec["all"])
    for op, test in FILTER_OPS.items():
        if op in spec:
            return test(values.get(spec["column"]), spec[op])
    raise ValueError(f"unknown view filter {spec!r}")


def markdown_to_html(markdown: str) -> str:
    """Just enough Markdown → HTML for page fixtures: headings and paragraphs."""
    parts: list[str] = []
    for block in markdown.strip().split("\n\n"):
        if not block:
            continue
        level = len(block) - len(block.lstrip("#"))
        if 0 < level <= 6 and block[level : level + 1] == " ":
            parts.append(f"<h{level}>{html_lib.escape(block[level + 1 :])}</h{level}>")
        else:
            parts.append("<p>" + html_lib.escape(block).replace("\n", "<br>") + "</p>")
    return "\n".join(parts)
