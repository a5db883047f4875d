"""A doc's views: its index (the page tree as in Coda, hidden pages marked; its tables and
views; formulas, controls, sharing and permissions when the run holds them) and one view
per page (its place in the tree, its subpages, its content)."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from target_files import jsonio
from target_files.viewer import content, jsonview
from target_files.viewer.markup import FOLDER, badge, document, esc, label, link

if t.TYPE_CHECKING:
    from collections.abc import Container, Mapping
    from pathlib import Path

logger = logging.getLogger(__name__)

#: The doc's own JSON files the index shows, when the run holds them (issue #14).
DOC_FILES = (
    ("formulas.json", "Formulas"),
    ("controls.json", "Controls"),
    ("sharing.json", "Sharing"),
    ("permissions.json", "Permissions"),
)


@dataclass
class Page:
    """A page as the views need it: its record in pages.json merged with its manifest entry."""

    id: str
    name: str
    view: str
    record: dict[str, t.Any]
    entry: dict[str, t.Any]
    parent: str | None
    children: list[Page] = field(default_factory=list)

    @property
    def marks(self) -> str:
        out = []
        if self.record.get("isHidden"):
            out.append(badge("hidden", "hidden"))
        elif self.record.get("isEffectivelyHidden"):
            out.append(badge("hidden (under a hidden page)", "hidden"))
        kind = self.record.get("contentType")
        if kind and kind != "canvas":
            out.append(badge(str(kind)))
        status = self.entry.get("status")
        if status not in (None, "exported", "unchanged"):
            out.append(badge(str(status), "problem"))
        return " ".join(out)


@dataclass
class DocViews:
    """The views of one doc, numbered `number` in the run."""

    root: Path
    files: Container[str]
    entry: dict[str, t.Any]
    number: int
    pages: dict[str, Page] = field(default_factory=dict)
    #: table id → its view
    tables: dict[str, str] = field(default_factory=dict)

    @property
    def index(self) -> str:
        return f"{FOLDER}/{self.number}/index.html"

    @property
    def name(self) -> str:
        return label(self.entry.get("name"), self.entry.get("id"))

    def table_view(self, position: int) -> str:
        return f"{FOLDER}/{self.number}/t{position}.html"

    def load_pages(self) -> list[Page]:
        """The doc's pages in Coda's order (pages.json), then those only the manifest
        names (kept from an earlier run when the listing failed), as a forest; the top
        pages."""
        entries = {str(p.get("id")): p for p in self.entry.get("pages") or []}
        listed = self._json("pages.json")
        records = [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []
        known = {str(r.get("id")) for r in records}
        records += [e for page_id, e in entries.items() if page_id not in known]
        for position, record in enumerate(records):
            page_id = str(record.get("id"))
            entry = entries.get(page_id, {})
            parent = (record.get("parent") or {}).get("id") or entry.get("parent_id")
            self.pages[page_id] = Page(
                id=page_id,
                name=label(record.get("name", entry.get("name")), page_id),
                view=f"{FOLDER}/{self.number}/p{position + 1}.html",
                record=record,
                entry=entry,
                parent=str(parent) if parent else None,
            )
        top: list[Page] = []
        for page in self.pages.values():
            holder = self.pages.get(page.parent) if page.parent else None
            (holder.children if holder and holder is not page else top).append(page)
        return top

    def settle(self) -> None:
        """The doc's views are written: of its pages only their views are still needed
        (index.html links to them), so their records go, as each doc's are done (else
        the run would hold every page record of the account until the end)."""
        for page in self.pages.values():
            page.record, page.entry, page.children = {}, {}, []

    def _json(self, name: str) -> t.Any:
        rel = f"{self.entry.get('path')}/{name}"
        if rel not in self.files:
            return None
        try:
            return jsonio.loads((self.root / rel).read_bytes())
        except (OSError, ValueError) as exc:
            logger.warning("index.html: cannot read %s: %s", rel, exc)
            return None

    def tree_html(self, top: list[Page]) -> str:
        """Nested lists of the page tree, built without recursion (a tree may be deeper
        than Python's stack), each page once (a hostile listing may hold a cycle)."""
        out, seen = ['<ul class="tree">'], set[str]()
        levels = [iter(top)]
        while levels:
            page = next(levels[-1], None)
            if page is None:
                levels.pop()
                out.append("</ul></li>" if levels else "</ul>")
                continue
            if page.id in seen:
                continue
            seen.add(page.id)
            out.append(f"<li>{link(self.index, page.view, page.name)} {page.marks}")
            if page.children:
                out.append("<ul>")
                levels.append(iter(page.children))
            else:
                out.append("</li>")
        return "".join(out)

    def index_html(self, top: list[Page], tables: list[str]) -> str:
        e = self.entry
        parts = [
            f"<h1>{esc(self.name)}</h1>",
            f'<p class="note">id {esc(e.get("id"))} · updated {esc(e.get("updatedAt"))} · '
            f"status {esc(e.get('status'))}</p>",
            f"<h2>Pages ({len(self.pages)})</h2>",
            self.tree_html(top) if self.pages else '<p class="note">No pages.</p>',
            f"<h2>Tables and views ({len(tables)})</h2>",
            f'<ul class="tables">{"".join(tables)}</ul>' if tables else '<p class="note">None.</p>',
        ]
        for name, title in DOC_FILES:
            data = self._json(name)
            if data is not None:
                stem = name.removesuffix(".json")
                parts.append(f'<h2>{esc(title)}</h2>\n<section class="docfile" id="{stem}">')
                parts.append(f"{jsonview.render(data)}</section>")
        return document(self.index, self.name, "\n".join(parts))

    def page_html(self, page: Page, assets: Mapping[str, str]) -> str:
        crumbs = [(self.index, self.name)]
        holder, chain = self.pages.get(page.parent or ""), list[Page]()
        while holder is not None and holder.id not in {c.id for c in chain} and holder is not page:
            chain.insert(0, holder)
            holder = self.pages.get(holder.parent or "")
        crumbs += [(p.view, p.name) for p in chain]
        parts = [f"<h1>{esc(page.name)} {page.marks}</h1>"]
        if page.record.get("subtitle"):
            parts.append(f'<p class="subtitle">{esc(page.record["subtitle"])}</p>')
        if page.children:
            subs = "".join(f"<li>{link(page.view, c.view, c.name)}</li>" for c in page.children)
            parts.append(f'<nav class="subpages"><h2>Subpages</h2><ul>{subs}</ul></nav>')
        parts.append(self._content(page, assets))
        return document(page.view, page.name, "\n".join(parts), crumbs=crumbs)

    def _content(self, page: Page, assets: Mapping[str, str]) -> str:
        picked = content.pick(page.entry.get("files") or {})
        if picked is None or picked[1] not in self.files:
            status = page.entry.get("status") or "not exported"
            return f'<p class="note">No content of this page in the backup ({esc(status)}).</p>'
        fmt, rel = picked
        source = content.Source(rel=rel, fmt=fmt, view_rel=page.view)
        try:
            body, size = content.render(self.root, source, content.Rebase(self.files, assets))
        except OSError as exc:
            return f'<p class="note">The page file could not be read: {esc(exc)}</p>'
        saved = link(page.view, rel, rel.rsplit("/", 1)[-1])
        note = f'<p class="note">Saved as {esc(fmt)}: {saved}</p>'
        if size is not None:
            note = (
                f'<p class="note">Saved as {esc(fmt)}: {saved} ({size:,} bytes, with every row '
                f"of its tables); below, its first {content.SHOWN_BYTES:,} bytes.</p>"
            )
        return f'{note}\n<article class="page">{body}</article>'
