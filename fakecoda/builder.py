"""How every generated workspace is made: `Builder` (docs, pages, tables, views and rows with
seeded ids and ticking timestamps) and the column formats they are declared with.

Everything is deterministic for a seed: ids, values and timestamps come from one
`random.Random(seed)` and the workspace's fake clock, in the order things are created.
The workspaces themselves live beside it (`testdocs`, `hostiledocs`, `demodocs`,
`benchdocs`, `assetdocs`, `typed`); `builders` names them all.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from fakecoda import doclogic
from fakecoda.workspace import (
    Column,
    Doc,
    FakeClock,
    Page,
    Row,
    Table,
    Workspace,
    markdown_to_html,
)

ID_ALPHABET = string.ascii_letters + string.digits + "-_"
BUILD_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)
# Mutations made by tests start here, after every generated timestamp.
TEST_EPOCH = datetime(2026, 3, 7, 10, 15, 30, tzinfo=timezone.utc)

ME = "Test User"
ME_EMAIL = "test.user@example.com"

# word pools, written as prose for reading
PROSE_WORDS = str.split(
    "launch plan team review goal metric customer roadmap ship design docs budget risk owner "
    "timeline scope feedback quality release sprint"
)
BENCH_WORDS = str.split(
    "alpha beta gamma delta review ship plan fix docs api web mobile infra data"
)

ColSpec = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


def fmt(kind: str, is_array: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "isArray": is_array, **extra}


def select(*options: str, is_array: bool = False) -> dict[str, Any]:
    return fmt("select", is_array, options=[{"name": o} for o in options])


def ref(kind: str, table: Table, is_array: bool = False) -> dict[str, Any]:
    """person/lookup formats reference a table (ReferenceColumnFormat requires it)."""
    return fmt(kind, is_array, table={"id": table.id})


TEXT = fmt("text")


class Ids:
    """Seeded ids, each handed out once: `prefix` + `length` characters of ID_ALPHABET."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()

    def new(self, prefix: str, length: int = 10) -> str:
        while True:
            candidate = prefix + "".join(self._rng.choices(ID_ALPHABET, k=length))
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate

    def claim(self, object_id: str) -> None:
        """An id chosen by hand (e.g. a page's `page_id`): never handed out after."""
        self._taken.add(object_id)


class Builder:
    """Creates docs, pages, tables and rows on a workspace with ticking timestamps."""

    def __init__(self, ws: Workspace, rng: random.Random) -> None:
        self.ws = ws
        self.rng = rng
        self.ids = Ids(rng)

    def id(self, prefix: str, length: int = 10) -> str:
        return self.ids.new(prefix, length)

    def doc_id(self) -> str:
        """Doc ids start with a letter (`AbCDeFGH`-like), so they never look like options."""
        return self.id(self.rng.choice(string.ascii_letters), 9)

    def tick(self, seconds: float = 60.0) -> str:
        return self.ws.clock.tick(timedelta(seconds=seconds))

    def doc(self, name: str, *, tag: str | None = None, **fields: Any) -> Doc:
        ts = self.tick(3600)
        doc = Doc(
            id=fields.pop("doc_id", None) or self.doc_id(),
            name=name,
            owner_email=fields.pop("owner_email", ME_EMAIL),
            is_owner=fields.pop("is_owner", True),
            listed=fields.pop("listed", True),
            workspace_id=fields.pop("workspace_id", "ws-AcmeCorp1"),
            workspace_name=fields.pop("workspace_name", "Acme Corp"),
            folder_id=fields.pop("folder_id", "fl-Shared001"),
            created_at=ts,
            updated_at=ts,
            **fields,
        )
        self.ws.docs.append(doc)
        if tag:
            self.ws.tags[tag] = doc.id
        return doc

    def page(
        self,
        doc: Doc,
        name: str,
        parent: Page | None = None,
        *,
        tag: str | None = None,
        markdown: str | None = None,
        html: str | None = None,
        content_type: str = "canvas",
        hidden: bool = False,
        subtitle: str = "",
        export_fails: str | None = None,
        page_id: str | None = None,
    ) -> Page:
        ts = self.tick()
        if markdown is None:
            markdown = self.prose(name)
        page = Page(
            id=page_id or self.id("canvas-"),
            name=name,
            subtitle=subtitle,
            parent_id=parent.id if parent else None,
            content_type=content_type,
            is_hidden=hidden,
            created_at=ts,
            updated_at=ts,
            markdown=markdown,
            html=html if html is not None else markdown_to_html(markdown),
            export_fails=export_fails,
        )
        self.ids.claim(page.id)
        doc.pages.append(page)
        if tag:
            self.ws.tags[tag] = page.id
        return page

    def table(
        self,
        doc: Doc,
        name: str,
        page: Page,
        columns: Sequence[ColSpec],
        rows: Sequence[dict[str, Any] | Sequence[Any]] = (),
        *,
        tag: str | None = None,
        layout: str = "default",
        row_seconds: float = 1.0,
    ) -> Table:
        ts = self.tick()
        cols = [_column(self.id("c-"), spec) for spec in columns]
        cols[0].display = True
        table = Table(
            id=self.id("grid-"),
            name=name,
            table_type="table",
            parent_page_id=page.id,
            columns=cols,
            rows=[],
            created_at=ts,
            updated_at=ts,
            display_column_id=cols[0].id,
            layout=layout,
        )
        doc.tables.append(table)
        self.add_rows(table, rows, row_seconds)
        if tag:
            self.ws.tags[tag] = table.id
        return table

    def add_rows(
        self,
        table: Table,
        rows: Sequence[dict[str, Any] | Sequence[Any]],
        row_seconds: float = 1.0,
    ) -> None:
        by_name: dict[str, str] = {}
        for col in table.columns:
            by_name.setdefault(col.name, col.id)
        display = table.display_column_id
        for spec in rows:
            values = _row_values(table.columns, by_name, spec)
            ts = self.tick(row_seconds)
            self.ws.version += 1
            name = values[display]
            table.rows.append(
                Row(
                    id=self.id("i-"),
                    name=_text(name),
                    values=values,
                    created_at=ts,
                    updated_at=ts,
                    version=self.ws.version,
                )
            )
            table.updated_at = ts

    def view(
        self,
        doc: Doc,
        name: str,
        base: Table,
        page: Page,
        *,
        tag: str | None = None,
        view_filter: dict[str, Any] | None = None,
        sorts: Sequence[tuple[str, str]] = (),
        layout: str = "default",
    ) -> Table:
        ts = self.tick()
        view = Table(
            id=self.id("table-"),
            name=name,
            table_type="view",
            parent_page_id=page.id,
            columns=base.columns,
            rows=[],
            created_at=ts,
            updated_at=ts,
            display_column_id=base.display_column_id,
            layout=layout,
            base_table_id=base.id,
            view_filter=view_filter,
            sorts=list(sorts),
        )
        doc.tables.append(view)
        if tag:
            self.ws.tags[tag] = view.id
        return view

    def col(self, table: Table, name: str) -> str:
        return next(c.id for c in table.columns if c.name == name)

    def edit_some_rows(self, doc: Doc, table: Table, fraction: float) -> None:
        """Some rows were edited after creation: updatedAt > createdAt, higher version."""
        for row in table.rows:
            if self.rng.random() < fraction:
                self.ws.version += 1
                row.version = self.ws.version
                row.updated_at = table.updated_at = self.tick(7)

    def prose(self, title: str, paragraphs: int = 2) -> str:
        words = PROSE_WORDS
        body = []
        for _ in range(paragraphs):
            sentence = " ".join(self.rng.choice(words) for _ in range(self.rng.randint(8, 20)))
            body.append(sentence.capitalize() + ".")
        return f"# {title}\n\n" + "\n\n".join(body) + "\n"

    def finish(self) -> Workspace:
        """Views and docs take their latest change; tests' mutations start at TEST_EPOCH."""
        for doc in self.ws.docs:
            _settle(doc)
        doclogic.furnish(self.ws)
        self.ws.clock.current = max(self.ws.clock.current, TEST_EPOCH)
        return self.ws


def _column(column_id: str, spec: ColSpec) -> Column:
    """A column as declared: (name, format) or (name, format, formula) for a calculated one."""
    formula = spec[2] if len(spec) == 3 else None
    return Column(
        id=column_id,
        name=spec[0],
        format=dict(spec[1]),
        calculated=formula is not None,
        formula=formula,
    )


def _row_values(
    columns: Sequence[Column],
    by_name: dict[str, str],
    spec: dict[str, Any] | Sequence[Any],
) -> dict[str, Any]:
    """A row's values by column id, from a dict by column name or a list in column order;
    cells not given are blank."""
    values: dict[str, Any] = dict.fromkeys((c.id for c in columns), None)
    if isinstance(spec, dict):
        for key, value in spec.items():
            values[by_name[key]] = value
    else:
        for col, value in zip(columns, spec, strict=False):
            values[col.id] = value
    return values


def _settle(doc: Doc) -> None:
    """A view's `updatedAt` is its base table's latest change, a doc's its latest anywhere."""
    for table in doc.tables:
        if table.table_type == "view" and table.base_table_id:
            base = next(t for t in doc.tables if t.id == table.base_table_id)
            table.updated_at = max(table.updated_at, base.updated_at)
    stamps = [doc.created_at]
    stamps += [p.updated_at for p in doc.pages] + [t.updated_at for t in doc.tables]
    doc.updated_at = max(stamps)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _workspace(seed: int, user_workspace: tuple[str, str]) -> tuple[Workspace, Builder]:
    ws_id, ws_name = user_workspace
    ws = Workspace(
        docs=[],
        user={
            "name": ME,
            "loginId": ME_EMAIL,
            "tokenName": "tap-coda",
            "scoped": False,
            "pictureLink": "https://cdn.coda.io/avatars/default_avatar.png",
            "workspace": {
                "id": ws_id,
                "type": "workspace",
                "browserLink": f"https://coda.io/docs?workspaceId={ws_id}",
                "name": ws_name,
            },
        },
        clock=FakeClock(BUILD_START, timedelta(seconds=1)),
    )
    return ws, Builder(ws, random.Random(seed))


def checkbox() -> dict[str, Any]:
    return fmt("checkbox", displayType="check")


def usd() -> dict[str, Any]:
    return fmt("currency", currencyCode="USD", precision=2, format="currency")
