"""The fake's ground truth: a mutable Coda account as plain dataclasses.

Tests read and mutate a `Workspace` between tap runs; the HTTP server renders it live under
`Workspace.lock`. It is built in layers, each in its own module: the objects (model.py),
the state and its lookups (account.py), the changes (pageedits.py, tableedits.py) and, here,
the API JSON. Every mutation moves timestamps the way Coda does (NOTES.md §2, §13.9):

- a page's `updatedAt` moves only when its own content changes (edit, add/remove a table);
- a row change moves the row's, its table's (and that table's views') and the doc's
  `updatedAt`, never the page's, and bumps the global row version that sync tokens encode;
- every mutation moves the doc's `updatedAt`.
"""

from __future__ import annotations

from typing import Any

from fakecoda import render, rowrender
from fakecoda.model import (
    VALUE_FORMATS,
    Column,
    Doc,
    FakeClock,
    Page,
    Row,
    Table,
    iso,
    markdown_to_html,
    matches_filter,
)
from fakecoda.pageedits import PageEdits
from fakecoda.tableedits import RowEdits, TableEdits

__all__ = [
    "VALUE_FORMATS",
    "Column",
    "Doc",
    "FakeClock",
    "Page",
    "Row",
    "Table",
    "Workspace",
    "iso",
    "markdown_to_html",
    "matches_filter",
]


class Workspace(PageEdits, TableEdits, RowEdits):
    """A fake Coda account: its state and lookups (`Account`), its changes (`PageEdits`,
    `TableEdits`, `RowEdits`) and the exact API JSON of every object (below, via render)."""

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
        return rowrender.row_json(
            self, doc, table, rows[index], index, value_format=value_format, base=base
        )

    def export_content(
        self, doc: Doc | str, page: Page | str, output_format: str = "markdown"
    ) -> str:
        """What an export of the page yields now: its canvas plus the tables on it."""
        doc, page = self._page_of(doc, page)
        return render.export_content(self, doc, page, output_format)
