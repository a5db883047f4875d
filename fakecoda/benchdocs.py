"""The `bench` workspace: a realistic-size account for `make bench` (benchmarks/).

`pages` pages spread over `docs` docs (nested up to three deep), `tables` tables of which
every fifth is a view, and `rows` rows shared Pareto-like between the base tables, so a few
tables are large and most are small, as in real accounts.
"""

from __future__ import annotations

import random
from typing import Any

from fakecoda.builder import (
    BENCH_WORDS,
    ME,
    TEXT,
    Builder,
    _workspace,
    checkbox,
    fmt,
    select,
    usd,
)
from fakecoda.workspace import Doc, Page, Table, Workspace

STATUSES = ["Backlog", "In progress", "Review", "Done"]
TAGS = ["web", "api", "mobile", "infra", "data"]
NAMES = [
    f"{first} {last}"
    for first in ("Ann", "Ben", "Cal", "Dee", "Eli")
    for last in ("Ng", "Ode", "Park")
]


def build_bench_workspace(
    docs: int = 4, pages: int = 100, tables: int = 30, rows: int = 100_000, seed: int = 0
) -> Workspace:
    """A realistic-size account: `pages`, `tables` (every fifth a view) and `rows` in total."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    ws.people = {n: n.lower().replace(" ", ".") + "@acme.example" for n in NAMES}
    created_docs = [b.doc(f"Bench Doc {d + 1}", owner_name=ME) for d in range(docs)]
    doc_pages = _pages(b, created_docs, pages)
    base_count = tables - tables // 5
    sizes = _table_sizes(b.rng, base_count, rows)
    bases: list[tuple[Doc, Table]] = []
    for t in range(base_count):
        d = t % docs
        page = b.rng.choice(doc_pages[d])
        bases.append((created_docs[d], _table(b, created_docs[d], page, t, sizes[t])))
    for v in range(tables - base_count):
        doc, base = bases[v % len(bases)]
        page = next(p for p in doc.pages if p.id == base.parent_page_id)
        view_filter = {"column": base.columns[1].id, "not_equal": "Done"}
        b.view(
            doc,
            f"Open in Table {bases.index((doc, base)) + 1}",
            base,
            page,
            view_filter=view_filter,
        )
    return b.finish()


def _pages(b: Builder, docs: list[Doc], count: int) -> list[list[Page]]:
    """`count` pages dealt to the docs in turn, each a subpage of an earlier one of its doc
    with chance 0.6 unless that would nest it more than three deep; the pages of each doc."""
    rng = b.rng
    doc_pages: list[list[Page]] = [[] for _ in docs]
    for i in range(count):
        d = i % len(docs)
        siblings = doc_pages[d]
        parent = rng.choice(siblings) if siblings and rng.random() < 0.6 else None
        depth = 0
        p = parent
        while p is not None and depth < 3:
            depth += 1
            p = next((q for q in siblings if q.id == p.parent_id), None)
        if depth >= 3:
            parent = None
        siblings.append(
            b.page(docs[d], f"Page {i + 1}", parent, markdown=b.prose(f"Page {i + 1}", 6))
        )
    return doc_pages


def _table_sizes(rng: random.Random, count: int, rows: int) -> list[int]:
    """`rows` shared between `count` tables by Pareto weights; the first takes the rest."""
    weights = [rng.paretovariate(1.2) for _ in range(count)]
    total_w = sum(weights)
    sizes = [int(rows * w / total_w) for w in weights]
    sizes[0] += rows - sum(sizes)
    return sizes


def _table(b: Builder, doc: Doc, page: Page, t: int, n_rows: int) -> Table:
    table = b.table(
        doc,
        f"Table {t + 1}",
        page,
        [
            ("Name", TEXT),
            ("Status", select(*STATUSES)),
            ("Owner", fmt("person", table={"id": "grid-pending000"})),
            ("Tags", select(*TAGS, is_array=True)),
            ("Amount", usd()),
            ("Estimate", fmt("number", precision=1)),
            ("Due", fmt("date", format="YYYY-MM-DD")),
            ("Done", checkbox()),
            ("Link", fmt("link", display="url")),
            ("Notes", TEXT),
        ],
        [],
    )
    table.columns[2].format["table"] = {"id": table.id}
    b.add_rows(table, _rows(b.rng, n_rows), row_seconds=0.001)
    b.edit_some_rows(doc, table, 0.05)
    return table


def _rows(rng: random.Random, count: int) -> list[list[Any]]:
    """`count` rows of seeded values in the bench table's column order (the hot loop of
    building the workspace: the RNG's methods are bound once)."""
    choice, rnd, words = rng.choice, rng.random, BENCH_WORDS
    return [
        [
            f"{choice(words)} {choice(words)} {r}",
            choice(STATUSES),
            choice(NAMES),
            [choice(TAGS)] if rnd() < 0.7 else None,
            f"${int(rnd() * 100000) / 100:,.2f}",
            int(rnd() * 400) / 10,
            f"2026-{1 + r % 12:02d}-{1 + r % 28:02d}",
            rnd() < 0.3,
            f"https://example.com/item/{r}",
            " ".join(choice(words) for _ in range(8)),
        ]
        for r in range(count)
    ]
