"""The minimal requests a perfect client must send, and the wall-time lower bound they imply.

Counts come from the fake's workspace itself (what is really there), never from what the
tap happened to request. See README.md, "The lower bound", for the reasoning.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fakecoda import doclogic

if TYPE_CHECKING:
    from fakecoda import FakeConfig, Workspace
    from fakecoda.workspace import Doc, Table

#: Which Coda rate class each kind of request belongs to (NOTES §9; blobs are not limited).
CLASS_OF = {
    "whoami": "read",
    "list_docs": "list_docs",
    "get_doc": "read",
    "list_pages": "read",
    "get_page": "read",
    "list_tables": "read",
    "get_table": "read",
    "list_columns": "read",
    "list_rows": "read",
    "export_post": "write",
    "export_poll": "read",
    "list_formulas": "read",
    "get_formula": "read",
    "list_controls": "read",
    "get_control": "read",
    "list_permissions": "read",
    "acl_settings": "read",
    "acl_metadata": "read",
    "list_folders": "read",
    "blob": "blob",
    "asset": "blob",  # the asset host: not Coda's API, not rate limited
}
KINDS = tuple(CLASS_OF)
LIMITED_CLASSES = ("read", "write", "list_docs")


@dataclass
class Plan:
    """What a run has to fetch. `full`: everything. Otherwise an incremental run where only
    `changed_rows` (table id -> rows changed or added since the last run) and
    `edited_pages` (page ids whose content changed) differ."""

    full: bool = True
    changed_rows: dict[str, int] = field(default_factory=dict)
    edited_pages: set[str] = field(default_factory=set)


def pages_needed(items: int, clamp: int) -> int:
    """List pages for `items` objects at `clamp` a page; an empty list still costs one."""
    return max(1, math.ceil(items / clamp))


def backed_up_docs(ws: Workspace) -> list[Doc]:
    """The docs a default run backs up: listed (opened) and owned (isOwner=true)."""
    return [d for d in ws.docs if d.listed and d.is_owner]


def minimal_requests(ws: Workspace, cfg: FakeConfig, plan: Plan) -> Counter[str]:
    """Requests per kind that any correct client needs for `plan` on this workspace."""
    list_clamp = cfg.page_clamp
    row_clamp = cfg.row_clamp or cfg.page_clamp
    n: Counter[str] = Counter()
    n["whoami"] = 1  # the token check a backup makes before anything else
    docs = backed_up_docs(ws)
    n["list_docs"] = pages_needed(len(docs), list_clamp)
    n["list_folders"] = pages_needed(len(doclogic.folders(ws)), list_clamp)
    polls_per_export = 2 if cfg.first_poll_404 else 1
    for doc in docs:
        if doc.over_api_size_limit:
            continue
        n["list_pages"] += pages_needed(len(doc.pages), list_clamp)
        _doc_logic_requests(n, doc, list_clamp)
        if plan.full:
            n["asset"] += len(_asset_keys(doc))
        n["list_tables"] += pages_needed(len(doc.tables), list_clamp)
        changed_pages = set(plan.edited_pages)
        for table in doc.tables:
            n["get_table"] += 1  # listTables gives references only: rowCount, updatedAt need it
            n["list_columns"] += pages_needed(len(table.columns), cfg.column_clamp)
            rows = _rows_requests(ws, doc, table, plan, row_clamp)
            n["list_rows"] += rows
            if rows and not plan.full and table.parent_page_id:
                changed_pages.add(table.parent_page_id)  # table data is part of the export
        for page in doc.pages:
            if page.content_type != "canvas":
                continue  # Coda exports canvas pages only
            if plan.full or page.id in changed_pages:
                n["export_post"] += 1
                n["export_poll"] += polls_per_export
                n["blob"] += 1
    return n


def _doc_logic_requests(n: Counter[str], doc: Doc, clamp: int) -> None:
    """Formulas and controls (a listing, then each one for its value: read every run, as
    values change without `updatedAt`), the ACL (permissions, settings, metadata)."""
    n["list_formulas"] += pages_needed(len(doc.formulas), clamp)
    n["get_formula"] += len(doc.formulas)
    n["list_controls"] += pages_needed(len(doc.controls), clamp)
    n["get_control"] += len(doc.controls)
    permissions = doc.sharing.permissions if doc.sharing else []
    n["list_permissions"] += pages_needed(len(permissions), clamp)
    n["acl_settings"] += 1
    n["acl_metadata"] += 1


def _asset_keys(doc: Doc) -> set[str]:
    """The files a doc's pages, covers and cells refer to (fakecoda.assets placeholders)."""
    text = "".join(p.markdown + p.html + repr(p.image) for p in doc.pages)
    text += "".join(repr(r.values) for t in doc.tables if t.table_type == "table" for r in t.rows)
    return set(re.findall(r"coda-asset:([A-Za-z0-9_-]+)", text))


def _rows_requests(ws: Workspace, doc: Doc, table: Table, plan: Plan, clamp: int) -> int:
    total = len(ws.rows_of(doc, table))
    if plan.full:
        return pages_needed(total, clamp)
    base = ws.base_of(doc, table)
    changed = plan.changed_rows.get(base.id)
    if changed is None:
        return 0  # unchanged: getTable's updatedAt and rowCount say so
    if table.table_type == "view":
        # A delta cannot tell which rows left the view's filter: a changed view is re-read.
        return pages_needed(total, clamp)
    return pages_needed(changed, clamp)


def by_class(kinds: Counter[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for kind, count in kinds.items():
        out[CLASS_OF.get(kind, "other")] += count
    return out


def longest_rows_chain(ws: Workspace, cfg: FakeConfig, plan: Plan) -> int:
    """The most rows pages one table needs: they follow each other (page tokens)."""
    clamp = cfg.row_clamp or cfg.page_clamp
    return max(
        (
            _rows_requests(ws, doc, table, plan, clamp)
            for doc in backed_up_docs(ws)
            for table in doc.tables
        ),
        default=0,
    )


@dataclass
class Bound:
    seconds: float
    terms: dict[str, float]  # each candidate; the bound is the largest
    binding: str  # which term it is


def lower_bound(ws: Workspace, cfg: FakeConfig, plan: Plan) -> tuple[Bound, Counter[str]]:
    """max over the rate classes of (ceil(N/L) - 1) * W plus the unavoidable chain.

    A sliding window of L per W lets the first L requests go at once; every further L
    must wait another W, so the last of N requests cannot leave before
    (ceil(N/L) - 1) * W. Around that sits the part no limit can shorten:
    - read, list_docs: + one latency (the last response);
    - write (export POSTs): + 2 latencies before the first POST (list docs, list pages),
      + export_seconds after the last POST, + 2 latencies (the completing status poll,
      the download);
    - chain (no limit at all): the longest run of requests that must follow each other,
      one latency each: list docs -> list tables -> every rows page of the largest table;
      an incremental run must read getTable (updatedAt, rowCount) before it can decide
      whether a table's rows are needed, which adds one step.
    """
    kinds = minimal_requests(ws, cfg, plan)
    classes = by_class(kinds)
    lat = cfg.latency
    terms: dict[str, float] = {}
    limits = cfg.rate_limits
    for cls in LIMITED_CLASSES:
        count = classes.get(cls, 0)
        if not count:
            continue
        limit = getattr(limits, cls) if limits is not None else None
        rate = (math.ceil(count / limit.count) - 1) * limit.window if limit else 0.0
        if cls == "write":
            terms[cls] = 2 * lat + rate + cfg.export_seconds + 2 * lat
        else:
            terms[cls] = rate + lat
    steps = 2 + (0 if plan.full else 1) + longest_rows_chain(ws, cfg, plan)
    terms["chain"] = steps * lat
    binding = max(terms, key=lambda k: terms[k])
    return Bound(terms[binding], terms, binding), kinds
