"""The fake's ground truth: a mutable Coda account as plain dataclasses.

Tests read and mutate a `Workspace` between tap runs; the HTTP server renders it live under
`Workspace.lock`. Every mutation moves timestamps the way Coda does (NOTES.md §2, §13.9):

- a page's `updatedAt` moves only when its own content changes (edit, add/remove a table);
- a row change moves the row's, its table's (and that table's views') and the doc's
  `updatedAt`, never the page's, and bumps the global row version that sync tokens encode;
- every mutation moves the doc's `updatedAt`.
"""

from __future__ import annotations

import html as html_lib
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from fakecoda import render

if TYPE_CHECKING:
    from fakecoda.assets import AssetFile
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


@dataclass
class Workspace:
    docs: list[Doc]
    user: dict[str, Any]
    people: dict[str, str] = field(default_factory=dict)  # person name -> email (rich values)
    tags: dict[str, str] = field(default_factory=dict)  # role -> object id, for tests
    assets: dict[str, AssetFile] = field(default_factory=dict)  # fakecoda.assets
    clock: FakeClock = field(default_factory=FakeClock)
    version: int = 0  # global row version; sync tokens encode it
    sync_epoch: int = 0  # bumped by expire_sync_tokens()
    lock: threading.RLock = field(default_factory=threading.RLock, compare=False, repr=False)
    _view_cache: dict[str, tuple[Any, list[Row]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _name_index: dict[str, tuple[int, dict[str, Row]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _minted: set[str] = field(default_factory=set, compare=False, repr=False)

    # ---- lookups -------------------------------------------------------------------------

    def doc(self, doc_id: str) -> Doc:
        for doc in self.docs:
            if doc.id == doc_id:
                return doc
        raise KeyError(doc_id)

    def page(self, doc_id: str, page_id: str) -> Page:
        for page in self.doc(doc_id).pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def table(self, doc_id: str, table_id: str) -> Table:
        for table in self.doc(doc_id).tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)

    def row(self, doc_id: str, table_id: str, row_id: str) -> Row:
        for row in self.rows_of(self.doc(doc_id), self.table(doc_id, table_id)):
            if row.id == row_id:
                return row
        raise KeyError(row_id)

    def find(self, object_id: str) -> tuple[Doc, Any]:
        """(doc, object) for any doc, page or table id; ids are unique across the fake."""
        for doc in self.docs:
            if doc.id == object_id:
                return doc, doc
            objects: Iterable[Page | Table] = itertools.chain(doc.pages, doc.tables)
            for obj in objects:
                if obj.id == object_id:
                    return doc, obj
        raise KeyError(object_id)

    def tagged(self, tag: str) -> tuple[Doc, Any]:
        """(doc, object) for a role name of `tags`, e.g. `ws.tagged("page.export_fails")`."""
        return self.find(self.tags[tag])

    def base_of(self, doc: Doc, table: Table) -> Table:
        if table.table_type == "view" and table.base_table_id:
            return self.table(doc.id, table.base_table_id)
        return table

    def views_of(self, doc: Doc, table: Table) -> list[Table]:
        return [t for t in doc.tables if t.base_table_id == table.id]

    def children(self, doc: Doc, page: Page) -> list[Page]:
        return [p for p in doc.pages if p.parent_id == page.id]

    def pages_in_order(self, doc: Doc) -> list[Page]:
        """Pre-order walk of the page tree, siblings in storage order (Coda's outline)."""
        by_parent: dict[str | None, list[Page]] = {}
        ids = {p.id for p in doc.pages}
        for page in doc.pages:
            parent = page.parent_id if page.parent_id in ids else None
            by_parent.setdefault(parent, []).append(page)
        out: list[Page] = []

        def walk(parent: str | None) -> None:
            for page in by_parent.get(parent, []):
                out.append(page)
                walk(page.id)

        walk(None)
        return out

    def effectively_hidden(self, doc: Doc, page: Page) -> bool:
        seen: set[str] = set()
        current: Page | None = page
        while current is not None and current.id not in seen:
            if current.is_hidden:
                return True
            seen.add(current.id)
            current = next((p for p in doc.pages if p.id == current.parent_id), None)
        return False

    def rows_of(self, doc: Doc, table: Table) -> list[Row]:
        """A table's rows in createdAt order; a view's are its base's rows through its filter."""
        if table.table_type != "view":
            return table.rows
        base = self.base_of(doc, table)
        key = (table.gen, base.gen, id(base.rows), repr(table.view_filter))
        cached = self._view_cache.get(table.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        rows = [r for r in base.rows if matches_filter(table.view_filter, r.values)]
        self._view_cache[table.id] = (key, rows)
        return rows

    def row_named(self, doc: Doc, table: Table, name: str) -> Row | None:
        """The row a lookup value names (rich StructuredValue needs its id)."""
        base = self.base_of(doc, table)
        cached = self._name_index.get(base.id)
        if cached is None or cached[0] != base.gen:
            index: dict[str, Row] = {}
            for row in base.rows:
                index.setdefault(row.name, row)
            cached = (base.gen, index)
            self._name_index[base.id] = cached
        return cached[1].get(name)

    def email_of(self, person: str) -> str:
        if person in self.people:
            return self.people[person]
        local = "".join(ch for ch in person.lower() if ch.isascii() and ch.isalnum()) or "user"
        return f"{local}@example.com"

    # ---- API JSON (render module) -----------------------------------------------------------

    def _page_of(self, doc: Doc | str, page: Page | str) -> tuple[Doc, Page]:
        doc = self.doc(doc) if isinstance(doc, str) else doc
        return doc, self.page(doc.id, page) if isinstance(page, str) else page

    def _table_of(self, doc: Doc | str, table: Table | str) -> tuple[Doc, Table]:
        doc = self.doc(doc) if isinstance(doc, str) else doc
        return doc, self.table(doc.id, table) if isinstance(table, str) else table

    def api_user(self, base: str = render.DEFAULT_BASE) -> dict[str, Any]:
        return render.user_json(self, base)

    def api_doc(self, doc: Doc | str, base: str = render.DEFAULT_BASE) -> dict[str, Any]:
        return render.doc_json(self, self.doc(doc) if isinstance(doc, str) else doc, base)

    def api_page(
        self, doc: Doc | str, page: Page | str, base: str = render.DEFAULT_BASE
    ) -> dict[str, Any]:
        doc, page = self._page_of(doc, page)
        return render.page_json(self, doc, page, base)

    def api_table_ref(
        self, doc: Doc | str, table: Table | str, base: str = render.DEFAULT_BASE
    ) -> dict[str, Any]:
        doc, table = self._table_of(doc, table)
        return render.table_ref(self, doc, table, base)

    def api_table(
        self, doc: Doc | str, table: Table | str, base: str = render.DEFAULT_BASE
    ) -> dict[str, Any]:
        doc, table = self._table_of(doc, table)
        return render.table_json(self, doc, table, base)

    def api_column(
        self,
        doc: Doc | str,
        table: Table | str,
        column: Column | str,
        base: str = render.DEFAULT_BASE,
    ) -> dict[str, Any]:
        doc, table = self._table_of(doc, table)
        if isinstance(column, str):
            column = next(c for c in table.columns if c.id == column)
        return render.column_json(self, doc, table, column, base)

    def api_row(
        self,
        doc: Doc | str,
        table: Table | str,
        row: Row | str,
        value_format: str = "simpleWithArrays",
        base: str = render.DEFAULT_BASE,
    ) -> dict[str, Any]:
        doc, table = self._table_of(doc, table)
        rows = self.rows_of(doc, table)
        row_id = row if isinstance(row, str) else row.id
        index = next(i for i, r in enumerate(rows) if r.id == row_id)
        return render.row_json(
            self, doc, table, rows[index], index, value_format=value_format, base=base
        )

    def export_content(
        self, doc: Doc | str, page: Page | str, output_format: str = "markdown"
    ) -> str:
        """What an export of the page yields now: its canvas plus the tables on it."""
        doc, page = self._page_of(doc, page)
        return render.export_content(self, doc, page, output_format)

    # ---- mutations ------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        taken = self._minted | {doc.id for doc in self.docs}
        for doc in self.docs:
            taken.update(p.id for p in doc.pages)
            for table in doc.tables:
                taken.add(table.id)
                taken.update(c.id for c in table.columns)
        for n in itertools.count(len(taken) + 1):
            candidate = f"{prefix}m{n:09d}"
            if candidate not in taken:
                self._minted.add(candidate)
                return candidate
        raise AssertionError("unreachable")

    def _new_row_id(self) -> str:
        self.version += 1
        return f"i-m{self.version:09d}"

    def mint_id(self, prefix: str) -> str:
        """A fresh id for an object a queued write will create (writes.py)."""
        with self.lock:
            return self._new_id(prefix)

    def mint_row_id(self) -> str:
        with self.lock:
            return self._new_row_id()

    def _bump(self, doc: Doc, table: Table, ts: str) -> None:
        """A change to a base table's data: moves it, its views and the doc, never the page."""
        base = self.base_of(doc, table)
        for t in [base, *self.views_of(doc, base)]:
            t.updated_at = ts
            t.gen += 1
        doc.updated_at = ts

    def _values(self, table: Table, values: dict[str, Any]) -> dict[str, Any]:
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

    def _row_name(self, table: Table, values: dict[str, Any]) -> str:
        return render.simple_text(values.get(table.display_column_id))

    def edit_page(
        self, doc_id: str, page_id: str, markdown: str | None = None, html: str | None = None
    ) -> Page:
        with self.lock:
            doc, page = self.doc(doc_id), self.page(doc_id, page_id)
            ts = self.clock.tick()
            if markdown is not None:
                page.markdown = markdown
                page.html = html if html is not None else markdown_to_html(markdown)
            elif html is not None:
                page.html = html
            page.updated_at = doc.updated_at = ts
            return page

    def add_page(
        self,
        doc_id: str,
        name: str,
        parent_id: str | None = None,
        markdown: str = "New page content.\n",
        *,
        html: str | None = None,
        content_type: str = "canvas",
        is_hidden: bool = False,
        subtitle: str = "",
        page_id: str | None = None,
    ) -> Page:
        with self.lock:
            doc = self.doc(doc_id)
            if parent_id is not None:
                self.page(doc_id, parent_id)
            ts = self.clock.tick()
            page = Page(
                id=page_id or self._new_id("canvas-"),
                name=name,
                subtitle=subtitle,
                parent_id=parent_id,
                content_type=content_type,
                is_hidden=is_hidden,
                created_at=ts,
                updated_at=ts,
                markdown=markdown,
                html=html if html is not None else markdown_to_html(markdown),
            )
            doc.pages.append(page)
            doc.updated_at = ts
            return page

    def delete_page(self, doc_id: str, page_id: str) -> None:
        """Deletes the page, its subpages and every table on them (as Coda does)."""
        with self.lock:
            doc = self.doc(doc_id)
            doomed = {page_id}
            self.page(doc_id, page_id)
            grew = True
            while grew:
                more = {p.id for p in doc.pages if p.parent_id in doomed} - doomed
                grew = bool(more)
                doomed |= more
            gone_tables = {t.id for t in doc.tables if t.parent_page_id in doomed}
            gone_tables |= {t.id for t in doc.tables if t.base_table_id in gone_tables}
            doc.pages = [p for p in doc.pages if p.id not in doomed]
            doc.tables = [t for t in doc.tables if t.id not in gone_tables]
            doc.deleted_ids |= doomed | gone_tables
            doc.updated_at = self.clock.tick()

    def rename_page(self, doc_id: str, page_id: str, name: str) -> Page:
        """A rename is not a content edit: the page's `updatedAt` stays (a fake's choice)."""
        with self.lock:
            doc, page = self.doc(doc_id), self.page(doc_id, page_id)
            page.name = name
            for table in doc.tables:  # table/row browserLinks carry the page's slug
                if table.parent_page_id == page_id:
                    table.gen += 1
            doc.updated_at = self.clock.tick()
            return page

    def edit_row(self, doc_id: str, table_id: str, row_id: str, values: dict[str, Any]) -> Row:
        with self.lock:
            doc = self.doc(doc_id)
            base = self.base_of(doc, self.table(doc_id, table_id))
            row = next(r for r in base.rows if r.id == row_id)
            ts = self.clock.tick()
            row.values.update(self._values(base, values))
            row.name = self._row_name(base, row.values)
            self.version += 1
            row.version = self.version
            row.updated_at = ts
            self._bump(doc, base, ts)
            return row

    def add_row(
        self, doc_id: str, table_id: str, values: dict[str, Any], *, row_id: str | None = None
    ) -> Row:
        with self.lock:
            doc = self.doc(doc_id)
            base = self.base_of(doc, self.table(doc_id, table_id))
            ts = self.clock.tick()
            stored = {c.id: None for c in base.columns} | self._values(base, values)
            row = Row(
                id=row_id or self._new_row_id(),
                name=self._row_name(base, stored),
                values=stored,
                created_at=ts,
                updated_at=ts,
            )
            self.version += 1
            row.version = self.version
            base.rows.append(row)
            self._bump(doc, base, ts)
            return row

    def delete_row(self, doc_id: str, table_id: str, row_id: str) -> None:
        """Deltas never report this (NOTES §7): the row just stops being listed."""
        with self.lock:
            doc = self.doc(doc_id)
            base = self.base_of(doc, self.table(doc_id, table_id))
            before = len(base.rows)
            base.rows = [r for r in base.rows if r.id != row_id]
            if len(base.rows) == before:
                raise KeyError(row_id)
            self.version += 1
            self._bump(doc, base, self.clock.tick())

    def add_column(
        self,
        doc_id: str,
        table_id: str,
        name: str,
        fmt: dict[str, Any] | None = None,
        *,
        formula: str | None = None,
    ) -> Column:
        """Existing rows show a blank cell; their versions do not move (no delta for them)."""
        with self.lock:
            doc = self.doc(doc_id)
            base = self.base_of(doc, self.table(doc_id, table_id))
            column = Column(
                id=self._new_id("c-"),
                name=name,
                format=fmt or {"type": "text", "isArray": False},
                calculated=formula is not None,
                formula=formula,
            )
            base.columns.append(column)
            for row in base.rows:
                row.values.setdefault(column.id, None)
            self._bump(doc, base, self.clock.tick())
            return column

    def delete_column(self, doc_id: str, table_id: str, column_id: str) -> None:
        """The column leaves the listing (its views' too) and every row's values; as for
        `add_column`, row versions do not move, so sync tokens stay valid and deltas omit
        the rows. Coda cannot delete a table's display column."""
        with self.lock:
            doc = self.doc(doc_id)
            base = self.base_of(doc, self.table(doc_id, table_id))
            if column_id == base.display_column_id:
                raise ValueError(f"{column_id} is the display column of {base.id}")
            column = next((c for c in base.columns if c.id == column_id), None)
            if column is None:
                raise KeyError(column_id)
            base.columns.remove(column)  # views share this list object
            for row in base.rows:
                row.values.pop(column_id, None)
            for table in [base, *self.views_of(doc, base)]:
                table.sorts = [s for s in table.sorts if s[0] != column_id]
            self._bump(doc, base, self.clock.tick())

    def add_table(
        self,
        doc_id: str,
        name: str,
        parent_page_id: str,
        columns: Iterable[Column | tuple[str, dict[str, Any]] | str],
        rows: Iterable[dict[str, Any]] = (),
        *,
        layout: str = "default",
    ) -> Table:
        """Rows are dicts keyed by column name or id. Adding a table edits the page."""
        with self.lock:
            doc, page = self.doc(doc_id), self.page(doc_id, parent_page_id)
            ts = self.clock.tick()
            cols: list[Column] = []
            for spec in columns:
                if isinstance(spec, Column):
                    cols.append(spec)
                    continue
                col_name, fmt = (spec, None) if isinstance(spec, str) else spec
                cols.append(
                    Column(
                        id=self._new_id("c-"),
                        name=col_name,
                        format=fmt or {"type": "text", "isArray": False},
                    )
                )
            if not cols:
                raise ValueError("a table needs at least one column")
            cols[0].display = True
            table = Table(
                id=self._new_id("grid-"),
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
            for values in rows:
                stored = {c.id: None for c in cols} | self._values(table, values)
                self.version += 1
                table.rows.append(
                    Row(
                        id=self._new_row_id(),
                        name=self._row_name(table, stored),
                        values=stored,
                        created_at=ts,
                        updated_at=ts,
                        version=self.version,
                    )
                )
            page.updated_at = doc.updated_at = ts
            return table

    def add_view(
        self,
        doc_id: str,
        base_table_id: str,
        name: str,
        parent_page_id: str,
        view_filter: dict[str, Any] | None = None,
    ) -> Table:
        with self.lock:
            doc, page = self.doc(doc_id), self.page(doc_id, parent_page_id)
            base = self.table(doc_id, base_table_id)
            ts = self.clock.tick()
            view = Table(
                id=self._new_id("table-"),
                name=name,
                table_type="view",
                parent_page_id=page.id,
                columns=base.columns,
                rows=[],
                created_at=ts,
                updated_at=ts,
                display_column_id=base.display_column_id,
                base_table_id=base.id,
                view_filter=view_filter,
            )
            doc.tables.append(view)
            page.updated_at = doc.updated_at = ts
            return view

    def delete_table(self, doc_id: str, table_id: str) -> None:
        """Deleting a base table deletes its views too; the page's content changes."""
        with self.lock:
            doc, table = self.doc(doc_id), self.table(doc_id, table_id)
            gone = {table.id} | {t.id for t in self.views_of(doc, table)}
            ts = self.clock.tick()
            for t in doc.tables:
                if t.id in gone:
                    page = next((p for p in doc.pages if p.id == t.parent_page_id), None)
                    if page is not None:
                        page.updated_at = ts
            doc.tables = [t for t in doc.tables if t.id not in gone]
            doc.deleted_ids |= gone
            doc.updated_at = ts

    def rename_table(self, doc_id: str, table_id: str, name: str) -> Table:
        with self.lock:
            doc, table = self.doc(doc_id), self.table(doc_id, table_id)
            ts = self.clock.tick()
            table.name = name
            table.updated_at = doc.updated_at = ts
            table.gen += 1
            return table

    def set_view_filter(
        self, doc_id: str, view_id: str, view_filter: dict[str, Any] | None
    ) -> Table:
        with self.lock:
            doc, view = self.doc(doc_id), self.table(doc_id, view_id)
            if view.table_type != "view":
                raise ValueError(f"{view_id} is not a view")
            ts = self.clock.tick()
            view.view_filter = view_filter
            view.updated_at = doc.updated_at = ts
            view.gen += 1
            return view

    def add_doc(self, name: str, *, workspace_id: str = "ws-fake00001", **fields: Any) -> Doc:
        with self.lock:
            ts = self.clock.tick()
            doc = Doc(
                id=fields.pop("doc_id", None) or self._new_id("d"),
                name=name,
                owner_email=fields.pop("owner_email", self.user.get("loginId", "")),
                is_owner=fields.pop("is_owner", True),
                listed=fields.pop("listed", True),
                workspace_id=workspace_id,
                workspace_name=fields.pop("workspace_name", "Fake Workspace"),
                folder_id=fields.pop("folder_id", "fl-fake00001"),
                created_at=ts,
                updated_at=ts,
                **fields,
            )
            self.docs.insert(0, doc)
            return doc

    def delete_doc(self, doc_id: str) -> None:
        with self.lock:
            self.docs.remove(self.doc(doc_id))

    def expire_sync_tokens(self) -> None:
        """Every sync token (and rows page token) minted so far now answers 400."""
        with self.lock:
            self.sync_epoch += 1

    def iter_tables(self) -> Iterator[tuple[Doc, Table]]:
        for doc in self.docs:
            for table in doc.tables:
                yield doc, table


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
