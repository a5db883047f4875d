"""What `restore pages` and `restore doc` write: saved pages against the live doc (pure).

Pages are walked in the saved tree's order (a parent before its children). A page the
target doc already has (the same name under the same parent) is never written: it maps to
the live page, and its saved children are restored under it; that is what makes a second
run, or a run after an interruption, plan nothing twice. Only canvas pages can be created
with content; any other page (a sync page, an embed, a table page) is listed as not
restored, and its children go under its nearest restored ancestor.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from coda_backup.restore.snapshot import SavedPage

#: A page's content goes in one request: Coda's 2 MB limit, with room for the rest.
MAX_CONTENT_BYTES = 2 * 1024 * 1024 - 16 * 1024


class PageSelectionError(Exception):
    """`--page` names no saved page, or several: one line."""


@dataclass(frozen=True)
class PageCreate:
    old_id: str
    parent: str | None  # the saved parent's old id when it is restored too, else None
    live_parent: str | None  # the live page to create it under (when `parent` is None)
    body: dict[str, t.Any]  # a PageCreate without parentPageId
    hidden: bool
    depth: int  # pages created above it in this plan: writes go level by level


@dataclass
class PagePlan:
    creates: list[PageCreate] = field(default_factory=list)
    existing: dict[str, str] = field(default_factory=dict)  # old id -> live id
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # old id, name, why

    @property
    def empty(self) -> bool:
        return not self.creates

    @property
    def writes(self) -> int:
        return len(self.creates) + sum(1 for c in self.creates if c.hidden)


def select(pages: list[SavedPage], keys: list[str], *, recursive: bool) -> set[str]:
    """The ids of the pages to restore: all, or those named (by id or exact name)."""
    if not keys:
        return {p.id for p in pages}
    chosen: set[str] = set()
    for key in keys:
        found = [p for p in pages if p.id == key] or [p for p in pages if p.name == key]
        if not found:
            raise PageSelectionError(f"the run holds no page {key!r} in this doc")
        if len(found) > 1:
            ids = ", ".join(p.id for p in found)
            raise PageSelectionError(f"several saved pages are named {key!r} ({ids}): give its id")
        chosen.add(found[0].id)
    if recursive:
        grew = True
        while grew:
            more = {p.id for p in pages if p.parent_id in chosen} - chosen
            chosen |= more
            grew = bool(more)
    return chosen


def tree_order(pages: list[SavedPage]) -> list[SavedPage]:
    """Parents before children, siblings in saved order."""
    ids = {p.id for p in pages}
    children: dict[str | None, list[SavedPage]] = {}
    for page in pages:
        children.setdefault(page.parent_id if page.parent_id in ids else None, []).append(page)
    out: list[SavedPage] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        page = stack.pop()
        out.append(page)
        stack.extend(reversed(children.get(page.id, [])))
    return out


def page_body(page: SavedPage) -> dict[str, t.Any]:
    """The PageCreate of a saved page: name, subtitle, icon, cover image, content."""
    obj = page.obj
    body: dict[str, t.Any] = {"name": page.name}
    if obj.get("subtitle"):
        body["subtitle"] = str(obj["subtitle"])
    icon = obj.get("icon")
    if isinstance(icon, dict) and icon.get("name"):
        body["iconName"] = str(icon["name"])
    image = obj.get("image")
    link = image.get("browserLink") if isinstance(image, dict) else None
    if isinstance(link, str) and link.startswith("https://"):
        body["imageUrl"] = link
    if page.content is not None and page.content_format is not None:
        body["pageContent"] = {
            "type": "canvas",
            "canvasContent": {"format": page.content_format, "content": page.content},
        }
    return body


def _why_not(page: SavedPage) -> str | None:
    kind = page.obj.get("contentType", "canvas")
    if kind != "canvas":
        return f"a {kind} page: the API creates only canvas pages with content"
    if page.content is not None and len(page.content.encode()) > MAX_CONTENT_BYTES:
        return "its content is over Coda's 2 MB request limit"
    return None


def plan_pages(
    pages: list[SavedPage],
    chosen: set[str],
    live: list[dict[str, t.Any]],
    *,
    parent: str | None,
) -> PagePlan:
    """`live`: the target doc's Page objects; `parent`: the live page to restore under."""
    plan = PagePlan()
    live_by_place = {
        (_parent_id(p), str(p.get("name"))): str(p["id"]) for p in reversed(live) if p.get("id")
    }
    # old id -> (saved parent that is created, live parent, depth) for the page's children
    place: dict[str | None, tuple[str | None, str | None, int]] = {None: (None, parent, 0)}
    for page in tree_order(pages):
        above = place.get(page.parent_id, place[None])
        if page.id not in chosen:
            continue
        why = _why_not(page)
        if why is not None:
            plan.skipped.append((page.id, page.name, why))
            place[page.id] = above  # its children go under its nearest restored ancestor
            continue
        created_parent, live_parent, depth = above
        match = live_by_place.get((live_parent, page.name)) if created_parent is None else None
        if match is not None:
            plan.existing[page.id] = match
            place[page.id] = (None, match, depth)
            continue
        hidden = bool(page.obj.get("isHidden"))
        plan.creates.append(
            PageCreate(page.id, created_parent, live_parent, page_body(page), hidden, depth)
        )
        place[page.id] = (page.id, None, depth + 1)
    return plan


def _parent_id(page: dict[str, t.Any]) -> str | None:
    parent = page.get("parent")
    return str(parent["id"]) if isinstance(parent, dict) and parent.get("id") else None
