"""A doc's pages in the tree: each page's files put in place, its outcome returned.

Per format: exported this run → moved into place (`exported`); not sent → carried from
`latest` by id (`unchanged`); export failed this run → the earlier copy is kept
(`failed`); not sent and no usable earlier copy → a failure of the target's own, saying a
full run is needed — never silently dropped. When the doc's page listing failed, the
pages latest had are kept (`failed`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, replace

from target_files import layout, outcomes
from target_files.outcomes import FULL_RUN_HINT, FileOutcome, PageOutcome

if t.TYPE_CHECKING:
    from target_files.staging import DocStage, PageStage
    from target_files.tree import Tree


@dataclass
class PageNode:
    page_id: str
    name: str | None
    parent_id: str | None
    stage: PageStage | None = None  # listed this run
    prev: dict[str, t.Any] | None = None  # its manifest entry in latest
    base: str = ""  # its path without extension


def doc_pages(tree: Tree, doc: DocStage, doc_rel: str) -> list[PageOutcome]:
    nodes: dict[str, PageNode] = {}
    prev_pages = tree.prev.pages if tree.prev else {}
    for page_id in doc.page_ids:
        stage = tree.staging.pages[(doc.doc_id, page_id)]
        prev = prev_pages.get((doc.doc_id, page_id))
        nodes[page_id] = PageNode(page_id, stage.name, stage.parent_id, stage=stage, prev=prev)
    if doc.doc_id in tree.failed.page_listing:
        for (doc_id, page_id), prev in sorted(prev_pages.items()):
            if doc_id == doc.doc_id and page_id not in nodes:
                node = PageNode(page_id, prev.get("name"), prev.get("parent_id"), prev=prev)
                nodes[page_id] = node
    places = layout.page_places([(n.page_id, n.name, n.parent_id) for n in nodes.values()])
    for node in nodes.values():
        folder, stem = places[node.page_id]
        node.base = "/".join([doc_rel, "pages", *folder, stem])
    outs = [_page(tree, doc.doc_id, node) for node in nodes.values()]
    for out, node in zip(outs, nodes.values(), strict=True):
        # Known only once every page of the doc is in place: the children's folder.
        if (tree.root / node.base).is_dir():
            out.entry["children"] = node.base
    return outs


def _page(tree: Tree, doc_id: str, node: PageNode) -> PageOutcome:
    fresh = node.stage.contents if node.stage else {}
    prev_files: dict[str, t.Any] = (node.prev or {}).get("files") or {}
    failed = tree.failed.pages.get((doc_id, node.page_id), set())
    unlisted = node.stage is None
    out = PageOutcome(entry={})
    files: dict[str, FileOutcome] = {}
    for fmt in outcomes.page_formats(fresh, prev_files, failed):
        rel = node.base + layout.page_ext(fmt)
        if fmt in fresh:
            tree.place(fresh[fmt].path, rel)
            files[fmt] = FileOutcome(rel, "exported", tree.run_id)
            continue
        is_failed = outcomes.format_failed(fmt, failed, unlisted=unlisted)
        files[fmt] = _carried(tree, doc_id, node, out, fmt=fmt, rel=rel, failed=is_failed)
    lost = outcomes.page_lost(
        has_files=bool(files),
        expect_pages=tree.expect_pages,
        failed=bool(failed),
        unlisted=unlisted,
    )
    if lost:
        error = (
            "no export received for this page and latest has none: the tap skipped it as "
            f"unchanged; {FULL_RUN_HINT}"
        )
        out.failures.append(_failure(doc_id, node, error, path=node.base))
    status = outcomes.page_status(
        {f.status for f in files.values()}, failed=unlisted or lost or bool(failed)
    )
    skip = doc_id in tree.failed.skipped_docs or (doc_id, node.page_id) in tree.failed.skipped_pages
    status = outcomes.skipped(status, skip=skip, own_failures=bool(out.failures))
    if status == "skipped":
        files = {
            k: replace(f, status="skipped") if f.status == "failed" else f for k, f in files.items()
        }
    out.entry = {
        "id": node.page_id,
        "name": node.name,
        "updatedAt": node.stage.updated_at if node.stage else (node.prev or {}).get("updatedAt"),
        "parent_id": node.parent_id,
        "path": outcomes.first_path(files.values()),
        "status": status,
        "files": {fmt: f.entry() for fmt, f in files.items()},
    }
    return out


def _carried(
    tree: Tree, doc_id: str, node: PageNode, out: PageOutcome, *, fmt: str, rel: str, failed: bool
) -> FileOutcome:
    """A format not exported this run: latest's copy, once it passed the carry check."""
    prev_files: dict[str, t.Any] = (node.prev or {}).get("files") or {}
    carry = tree.carry(prev_files.get(fmt), rel)
    out.carried += carry.source is not None
    if carry.damage:
        out.damaged.append(
            outcomes.damaged(
                "page", doc_id, node.page_id, node.name, path=carry.prev_path, reason=carry.damage
            )
        )
    if carry.source is None and not failed:
        error = f"not sent again (unchanged) but {carry.why}; {outcomes.hint(carry.damage)}"
        out.failures.append(_failure(doc_id, node, error, format=fmt, path=rel))
    return outcomes.carried_file(rel, carry.source, failed=failed)


def _failure(doc_id: str, node: PageNode, error: str, **context: t.Any) -> dict[str, t.Any]:
    return outcomes.failure("page_content", doc_id, node.page_id, node.name, error, **context)
