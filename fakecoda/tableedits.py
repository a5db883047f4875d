"""Changes to tables, views, columns and rows, moving timestamps as Coda does (NOTES.md §2,
§13.9): a row change moves the row's, its table's (and that table's views') and the doc's
`updatedAt`, never the page's, and bumps the global row version that sync tokens encode;
adding or deleting a table is a change of its page's content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fakecoda.account import Account
from fakecoda.model import Column, Row, Table, stored_values


class RowEdits(Account):
    """Edit, add and delete rows; expire every sync token (under `lock`)."""

    def edit_row(self, doc_id: str, table_id: str, row_id: str, values: dict[str, Any]) -> Row:
        with self.lock:
            doc = self.doc(doc_id)
            base = self.base_of(doc, self.table(doc_id, table_id))
            row = next(r for r in base.rows if r.id == row_id)
            ts = self.clock.tick()
            row.values.update(stored_values(base, values))
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
            stored = {c.id: None for c in base.columns} | stored_values(base, values)
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

    def expire_sync_tokens(self) -> None:
        """Every sync token (and rows page token) minted so far now answers 400."""
        with self.lock:
            self.sync_epoch += 1


class TableEdits(Account):
    """Add and delete columns, tables and views; rename tables; change a view's filter."""

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
                stored = {c.id: None for c in cols} | stored_values(table, values)
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
