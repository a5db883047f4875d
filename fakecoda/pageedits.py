"""Changes to docs and pages, moving timestamps as Coda does (NOTES.md §2, §13.9): a page's
`updatedAt` moves only when its own content changes; every change moves the doc's.
"""

from __future__ import annotations

from typing import Any

from fakecoda.account import Account
from fakecoda.model import Doc, Page, markdown_to_html


class PageEdits(Account):
    """Edit, add, delete and rename pages; add and delete docs (under `lock`)."""

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
