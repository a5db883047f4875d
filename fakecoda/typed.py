"""The `typed` workspace: one doc whose tables hold every column type a warehouse meets.

Built for the table streams' tests (issue #15): numbers, currency, percent, dates and
date-times, checkboxes and toggles, selects and multi-selects, people, lookups, links,
images, empty cells, unicode and one 200,000-character text, plus a view and a second doc.
"""

from __future__ import annotations

import random
from typing import Any

from fakecoda.assetdocs import add_asset_doc
from fakecoda.builder import ME, TEXT, Builder, _workspace, fmt, ref, select
from fakecoda.testdocs import PEOPLE
from fakecoda.workspace import Workspace

#: The one very long text cell (Coda's cells hold far more than a page of text).
LONG_TEXT = ("Lorem ipsum dolor sit amet, çà et là 🚀 " * 5000)[:200_000]
STATUSES = ("To Do", "In Progress", "Done", "Blocked")
TAGS = ("Frontend", "Backend", "Docs", "Design")


def build_typed_workspace(seed: int = 0, rows: int = 60, *, assets: bool = False) -> Workspace:
    """Two docs: `Warehouse Hub` (People, Tasks, a view of Tasks, an empty table) and
    `Sales 2026` (Deals); with `assets`, also fakecoda.assetdocs' doc of images and files."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    ws.people = {name: email for name, email, _ in PEOPLE}
    _hub_doc(b, rows)
    _sales_doc(b)
    if assets:
        add_asset_doc(b, large_bytes=300_000)
    return b.finish()


def _hub_doc(b: Builder, rows: int) -> None:
    """People, `rows` tasks of every column type, a view of them and an empty table."""
    rng = b.rng
    doc = b.doc("Warehouse Hub", tag="doc.typed")
    team = b.page(doc, "Team")
    people = b.table(
        doc,
        "People",
        team,
        [("Name", TEXT), ("Email", fmt("email")), ("Role", select("Engineer", "PM", "Lead"))],
        [{"Name": n, "Email": e, "Role": r} for n, e, r in PEOPLE],
        tag="typed.people",
    )
    names = [p[0] for p in PEOPLE]
    tasks = b.table(
        doc,
        "Tasks",
        b.page(doc, "Launch"),
        [
            ("Task", TEXT),
            ("Status", select(*STATUSES)),
            ("Owner", ref("person", people)),
            ("Tags", select(*TAGS, is_array=True)),
            ("Estimate", fmt("number", precision=1)),
            ("Budget", fmt("currency", currencyCode="USD", precision=2, format="currency")),
            ("Progress", fmt("percent", precision=0)),
            ("Due", fmt("date", format="YYYY-MM-DD")),
            ("Scheduled", fmt("dateTime", dateFormat="YYYY-MM-DD", timeFormat="HH:mm")),
            ("Done", fmt("checkbox", displayType="check")),
            ("Live", fmt("checkbox", displayType="toggle")),
            ("Related", ref("lookup", people, is_array=True)),
            ("Spec", fmt("link", display="url")),
            ("Photo", fmt("image")),
            ("Notes", TEXT),
        ],
        [_task(i, rng, names) for i in range(rows)],
        tag="typed.tasks",
    )
    b.view(
        doc,
        "Open Tasks",
        tasks,
        team,
        view_filter={"column": b.col(tasks, "Status"), "not_equal": "Done"},
        tag="typed.open_tasks",
    )
    b.table(doc, "Risks", team, [("Risk", TEXT), ("Impact", fmt("number"))], [], tag="typed.empty")


def _sales_doc(b: Builder) -> None:
    sales = b.doc("Sales 2026", tag="doc.sales")
    b.table(
        sales,
        "Deals",
        b.page(sales, "Pipeline"),
        [("Deal", TEXT), ("Amount", fmt("currency", currencyCode="EUR", precision=0))],
        [{"Deal": f"Deal {i}", "Amount": f"€{1000 * (i + 1):,}"} for i in range(7)],
        tag="typed.deals",
    )


def _task(i: int, rng: random.Random, names: list[str]) -> dict[str, Any]:
    blank = i % 9 == 4  # a row of empty cells (the task name stays)
    notes: Any = ["plain", "Chloé 李雷 عمر 🚀", "line one\nline two", LONG_TEXT, None][i % 5]
    return {
        "Task": f"Task {i + 1}",
        "Status": None if blank else STATUSES[i % 4],
        "Owner": None if blank else names[i % len(names)],
        "Tags": None if blank else [list(TAGS[: 1 + i % 3]), [TAGS[i % 4]]][i % 2],
        "Estimate": None if blank else [0, 1, 2.5, -1.5, 13, 0.1][i % 6],
        "Budget": None if blank else f"${(i * 137.5) % 5000:,.2f}",
        "Progress": None if blank else round((i % 11) / 10, 2),
        "Due": None if blank else f"2026-04-{1 + i % 28:02d}",
        "Scheduled": None if blank else f"2026-04-{1 + i % 28:02d}T{9 + i % 8:02d}:30:00.000Z",
        "Done": False if blank else i % 4 == 2,
        "Live": i % 2 == 0,
        "Related": None if blank else [names[(i + 1) % 8], names[(i + 3) % 8]],
        "Spec": None if blank else f"https://example.com/specs/{i}",
        "Photo": None if blank else f"https://codahosted.io/img/{rng.randrange(10**6)}.png",
        "Notes": None if blank else notes,
    }


__all__ = ["LONG_TEXT", "ME", "build_typed_workspace"]
