"""The account's state and every question asked of it; nothing here changes a thing.

`Account` holds the docs, the clock, the global row version and the render caches, and
answers lookups (by id, by tag, a view's rows, the page tree in order). The changes are in
`pageedits` and `tableedits`, the API JSON in `workspace`; `Workspace` is all of them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakecoda import render
from fakecoda.model import Doc, FakeClock, Page, Row, Table, matches_filter

if TYPE_CHECKING:
    from fakecoda.assets import AssetFile


@dataclass
class Account:
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

    def iter_tables(self) -> Iterator[tuple[Doc, Table]]:
        for doc in self.docs:
            for table in doc.tables:
                yield doc, table

    # ---- what every change shares ----------------------------------------------------------

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

    def _row_name(self, table: Table, values: dict[str, Any]) -> str:
        return render.simple_text(values.get(table.display_column_id))
