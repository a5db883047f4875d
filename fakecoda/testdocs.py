"""The `test` workspace: six docs with every awkward case a backup meets.

`doc.main` (this module) holds the page tree, hidden pages, pages Coda cannot export and the
tables with every cell kind; `doc.hostile` and `doc.wide` are in `hostiledocs`; the shared,
never-opened and over-size docs are the small ones below. `ws.tags` names every notable
object (fakecoda/README.md lists them). Docs are built in a fixed order: the seeded ids and
values depend on it.
"""

from __future__ import annotations

import random
from typing import Any

from fakecoda.builder import (
    ME,
    ME_EMAIL,
    TEXT,
    Builder,
    _workspace,
    checkbox,
    fmt,
    ref,
    select,
    usd,
)
from fakecoda.hostiledocs import HOSTILE_TEXT, hostile_doc, wide_doc
from fakecoda.workspace import Doc, Page, Table, Workspace

PEOPLE = [
    ("Alice Atkins", "alice@acme.example", "Engineer"),
    ("Bob Brown", "bob@acme.example", "Designer"),
    ("Chloé Dubois", "chloe@acme.example", "PM"),
    ("李雷", "lilei@acme.example", "Engineer"),
    ("عمر الفاروق", "omar@acme.example", "Support"),
    ("Eve O'Neil", "eve@acme.example", "Engineer"),
    ("Dmitri Ivanov", "dmitri@acme.example", "Sales"),
    (ME, ME_EMAIL, "Lead"),
]

TASK_STATUSES = ["To Do", "In Progress", "Done", "Blocked"]
TASK_TAGS = ["Frontend", "Backend", "Docs", "Design", "QA"]


def build_test_workspace(seed: int = 0) -> Workspace:
    """≈6 docs, ≈45 pages, ≈19 tables, ≈240 rows, with every awkward case a backup meets."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    ws.people = {name: email for name, email, _ in PEOPLE}
    _main_doc(b, b.rng)
    hostile_doc(b)
    wide_doc(b, b.rng)
    _shared_doc(b, ws.doc(ws.tags["doc.main"]))
    _unlisted_doc(b)
    _too_big_doc(b)
    return b.finish()


# ---- doc.main ------------------------------------------------------------------------------


def _main_doc(b: Builder, rng: random.Random) -> None:
    doc = b.doc(
        "Product Launch Hub",
        tag="doc.main",
        owner_name=ME,
        folder_id="fl-Launches1",
        folder_name="Launches",
        icon={
            "name": "rocket",
            "type": "image/png",
            "browserLink": "https://cdn.coda.io/icons/png/color/rocket-32.png",
        },
        published={
            "description": "How we launch.",
            "browserLink": "https://coda.io/@acme/product-launch-hub",
            "discoverable": False,
            "earnCredit": False,
            "mode": "view",
            "categories": [{"name": "Project management"}],
        },
    )
    pages = _main_pages(b, doc)
    people = _people_table(b, doc, pages["team"])
    tasks = _tasks_table(b, doc, pages["launch"], people, _task_rows(rng))
    b.edit_some_rows(doc, tasks, 0.3)
    _task_views(b, doc, tasks, pages)
    _small_tables(b, doc, pages)


def _main_pages(b: Builder, doc: Doc) -> dict[str, Page]:
    """The page tree (deep, duplicate names, hidden branches, pages that cannot be exported);
    the pages the tables go on, by role."""
    launch = b.page(doc, "Launch Status", tag="page.launch", subtitle="Where the launch stands")
    timeline = b.page(doc, "Timeline", launch, tag="page.timeline")
    q3 = b.page(doc, "Q3 Milestones", timeline, tag="page.q3")
    b.page(doc, "Week 1", q3, tag="page.deepest")
    b.page(doc, "Meeting Notes", launch, tag="page.dup_name_a")
    b.page(doc, "Meeting Notes", launch, tag="page.dup_name_b")
    team = b.page(doc, "Team", tag="page.team")
    internal = b.page(doc, "Internal", hidden=True, tag="page.hidden")
    salaries = b.page(doc, "Salaries", internal, tag="page.under_hidden")
    b.page(doc, "2026", salaries, tag="page.under_hidden_deep")
    b.page(doc, "Synced Roadmap", content_type="syncPage", tag="page.sync")
    b.page(doc, "Figma Embed", content_type="embed", markdown="", tag="page.embed")
    backlog = b.page(doc, "Backlog", content_type="table", markdown="", tag="page.table")
    b.page(
        doc,
        "Broken Export",
        tag="page.export_fails",
        export_fails="Failed to export page content: the page could not be rendered.",
    )
    b.page(doc, "Empty Page", markdown="", html="", tag="page.empty")
    b.page(doc, "Archive", hidden=True, tag="page.hidden_leaf")
    return {
        "launch": launch,
        "timeline": timeline,
        "team": team,
        "salaries": salaries,
        "backlog": backlog,
    }


def _people_table(b: Builder, doc: Doc, page: Page) -> Table:
    people = b.table(
        doc,
        "People",
        page,
        [
            ("Name", TEXT),
            ("Email", fmt("email", display="iconAndEmail")),
            ("Role", select("Engineer", "Designer", "PM", "Support", "Sales", "Lead")),
            ("Manager", TEXT),  # replaced by a self-lookup below, once the table exists
            ("Started", fmt("date", format="YYYY-MM-DD")),
            ("Active", checkbox()),
        ],
        [
            {
                "Name": name,
                "Email": email,
                "Role": role,
                "Manager": ME if name != ME else None,
                "Started": f"2024-0{1 + i % 9}-15",
                "Active": i != 4,
            }
            for i, (name, email, role) in enumerate(PEOPLE)
        ],
        tag="table.people",
    )
    people.columns[3].format = ref("lookup", people)
    return people


def _task_rows(rng: random.Random) -> list[dict[str, Any]]:
    """45 tasks with every cell kind: arrays, nested arrays, people, numbers that are hard
    to write back (1e21, -1.5), blanks and the hostile texts."""
    names = [p[0] for p in PEOPLE]
    rows = []
    for i in range(45):
        status = TASK_STATUSES[i % 4] if i % 7 else "Done"
        estimate: Any = [0, 1, 2.5, -1.5, 13, 1e21, 0.1][i % 7]
        rows.append(
            {
                "Task": f"Task {i + 1}: "
                + rng.choice(["write spec", "ship", "review, fix", "test"]),
                "Status": status,
                "Owner": names[i % len(names)],
                "Tags": [None, ["Frontend"], ["Backend", "Docs"], rng.sample(TASK_TAGS, 3)][i % 4],
                "Estimate": estimate,
                "Budget": f"${(i * 137.5) % 5000:,.2f}",
                "Due": f"2026-04-{1 + i % 28:02d}",
                "Done": status == "Done",
                "Related": [names[(i + 1) % 8], names[(i + 3) % 8]] if i % 3 else None,
                "Contact": PEOPLE[i % 8][1],
                "Spec": f"https://example.com/specs/{i}?q=a,b&x=%22y%22" if i % 5 else None,
                "Notes": HOSTILE_TEXT[i % len(HOSTILE_TEXT)],
                "Checklist": [[["Design", "Review"], ["Ship"]], [["Only"]], None][i % 3],
                "Progress": round((i % 11) / 10, 2),
                "Score": estimate * 2,
                "Scheduled": f"2026-04-{1 + i % 28:02d}T{9 + i % 8:02d}:30:00.000Z",
                "Done?": i % 2 == 0,
            }
        )
    return rows


def _tasks_table(
    b: Builder, doc: Doc, page: Page, people: Table, rows: list[dict[str, Any]]
) -> Table:
    return b.table(
        doc,
        "Tasks",
        page,
        [
            ("Task", TEXT),
            ("Status", select(*TASK_STATUSES)),
            ("Owner", ref("person", people)),
            ("Tags", select(*TASK_TAGS, is_array=True)),
            ("Estimate", fmt("number", precision=1, useThousandsSeparator=True)),
            ("Budget", usd()),
            ("Due", fmt("date", format="YYYY-MM-DD")),
            ("Done", checkbox()),
            ("Related", ref("lookup", people, is_array=True)),
            ("Contact", fmt("email", display="iconAndEmail")),
            ("Spec", fmt("link", display="url")),
            ("Notes", TEXT),
            ("Checklist", fmt("text", True)),
            ("Progress", fmt("percent", precision=0)),
            ("Score", fmt("number", precision=1), "thisRow.Estimate * 2"),
            ("Scheduled", fmt("dateTime", dateFormat="YYYY-MM-DD", timeFormat="HH:mm")),
            ("Done?", fmt("checkbox", displayType="toggle")),
        ],
        rows,
        tag="table.tasks",
    )


def _task_views(b: Builder, doc: Doc, tasks: Table, pages: dict[str, Page]) -> None:
    b.view(
        doc,
        "Open Tasks",
        tasks,
        pages["launch"],
        tag="view.open_tasks",
        view_filter={"column": b.col(tasks, "Status"), "not_equal": "Done"},
        sorts=[(b.col(tasks, "Due"), "ascending")],
    )
    b.view(
        doc,
        "My Tasks",
        tasks,
        pages["team"],
        tag="view.my_tasks",
        view_filter={"column": b.col(tasks, "Owner"), "equal": ME},
        layout="card",
    )


def _small_tables(b: Builder, doc: Doc, pages: dict[str, Page]) -> None:
    """A second `Tasks`, the table page's own table, an empty one and one under a hidden
    page."""
    b.table(
        doc,
        "Tasks",  # same name as the launch page's table, on another page
        pages["team"],
        [("Task", TEXT), ("Status", select(*TASK_STATUSES))],
        [{"Task": f"Old task {i}", "Status": "Done"} for i in range(5)],
        tag="table.tasks_dup",
    )
    b.table(
        doc,
        "Backlog",
        pages["backlog"],
        [("Item", TEXT), ("Priority", fmt("number", precision=0)), ("Size", select("S", "M", "L"))],
        [{"Item": f"Idea {i}", "Priority": i % 5, "Size": "SML"[i % 3]} for i in range(40)],
        tag="table.backlog",
    )
    b.table(
        doc,
        "Risks",
        pages["timeline"],
        [("Risk", TEXT), ("Likelihood", fmt("number")), ("Impact", select("Low", "High"))],
        [],
        tag="table.empty",
    )
    b.table(
        doc,
        "Salaries",
        pages["salaries"],
        [("Name", TEXT), ("Salary", fmt("currency", currencyCode="EUR", precision=0))],
        [{"Name": n, "Salary": f"€{50000 + i * 1000:,}"} for i, (n, _, _) in enumerate(PEOPLE[:4])],
        tag="table.under_hidden",
    )


# ---- the small docs ------------------------------------------------------------------------


def _shared_doc(b: Builder, main: Doc) -> None:
    shared = b.doc(
        "Product Launch Hub",  # same name as an owned doc: only the id tells them apart
        tag="doc.shared",
        is_owner=False,
        owner_email="carol@partner.example",
        owner_name="Carol Partner",
        workspace_id="ws-Personal2",
        workspace_name="Personal",
        folder_id="fl-Partner01",
        folder_name="Partner docs",
        source_doc_id=main.id,
    )
    b.page(shared, "Overview", tag="page.shared_overview")
    plan = b.page(shared, "Plan")
    b.page(shared, "Details", plan)
    b.table(
        shared,
        "Milestones",
        plan,
        [("Name", TEXT), ("Date", fmt("date", format="YYYY-MM-DD")), ("Done", checkbox())],
        [
            {
                "Name": f"Milestone {i + 1}",
                "Date": f"2026-0{1 + i % 9}-1{i % 10}",
                "Done": i % 3 == 0,
            }
            for i in range(30)
        ],
        tag="table.shared_milestones",
    )


def _unlisted_doc(b: Builder) -> None:
    unlisted = b.doc(
        "Never Opened",
        tag="doc.unlisted",
        is_owner=False,
        listed=False,
        owner_email="dave@acme.example",
        owner_name="Dave",
    )
    b.page(unlisted, "Welcome")
    stock = b.page(unlisted, "Data")
    b.table(
        unlisted,
        "Inventory",
        stock,
        [("Item", TEXT), ("Qty", fmt("number", precision=0)), ("Price", usd())],
        [
            {"Item": f"Widget {c}", "Qty": i * 3, "Price": f"${i * 2.5:,.2f}"}
            for i, c in enumerate("ABCDEFGH")
        ],
        tag="table.unlisted_inventory",
    )


def _too_big_doc(b: Builder) -> None:
    big = b.doc("Huge Archive", tag="doc.too_big", over_api_size_limit=True)
    index = b.page(big, "Index")
    b.page(big, "2019", index)
    b.table(
        big,
        "Log",
        index,
        [("Entry", TEXT), ("At", fmt("dateTime", dateFormat="YYYY-MM-DD", timeFormat="HH:mm"))],
        [{"Entry": f"entry {i}", "At": f"2019-05-0{1 + i % 9}T10:00:00.000Z"} for i in range(10)],
    )
