"""The `demo` workspace `make demo` serves: three realistic docs, no hostile content.

Product Launch Hub (a team, tasks and an open-tasks view), Team Wiki (nested pages, a hidden
draft, a glossary) and CRM (accounts, deals and two views). Built in this order: the seeded
ids and values depend on it.
"""

from __future__ import annotations

from fakecoda.builder import (
    ME,
    ME_EMAIL,
    TEXT,
    Builder,
    _workspace,
    fmt,
    ref,
    select,
    usd,
)
from fakecoda.workspace import Doc, Page, Table, Workspace

TEAM = [
    ("Alice Atkins", "alice@acme.example"),
    ("Bob Brown", "bob@acme.example"),
    ("Chloé Dubois", "chloe@acme.example"),
    ("Dmitri Ivanov", "dmitri@acme.example"),
    (ME, ME_EMAIL),
]

TASKS = [
    "Write launch blog post",
    "Finalize pricing page",
    "Record demo video",
    "Update API docs",
    "Press kit",
    "Customer webinar",
    "App store screenshots",
    "Support macros",
    "Sales enablement deck",
    "Analytics dashboard",
    "Release notes",
    "Internal launch party",
]

COMPANIES = ["Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"]


def build_demo_workspace(seed: int = 0) -> Workspace:
    """What `make demo` serves: three realistic docs, no hostile content."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    ws.people = dict(TEAM)
    people = _launch_hub(b)
    _team_wiki(b)
    _crm(b, people)
    return b.finish()


def _launch_hub(b: Builder) -> Table:
    """The hub's pages, its team and its tasks; the team table (the CRM's owners)."""
    hub = b.doc(
        "Product Launch Hub", owner_name=ME, folder_id="fl-Launches1", folder_name="Launches"
    )
    status = b.page(hub, "Launch Status", subtitle="See the status of launch-related tasks.")
    b.page(hub, "Timeline", status)
    b.page(hub, "Launch Checklist")
    b.page(hub, "Retrospective")
    people_page = b.page(hub, "Team")
    people = b.table(
        hub,
        "Team",
        people_page,
        [("Name", TEXT), ("Email", fmt("email")), ("Role", select("Engineer", "Design", "PM"))],
        [
            {"Name": n, "Email": e, "Role": ["Engineer", "Design", "PM"][i % 3]}
            for i, (n, e) in enumerate(TEAM)
        ],
    )
    _hub_tasks(b, hub, status, people)
    return people


def _hub_tasks(b: Builder, hub: Doc, page: Page, people: Table) -> None:
    rng = b.rng
    statuses = ["Not started", "In progress", "Done"]
    tasks = b.table(
        hub,
        "Tasks",
        page,
        [
            ("Task", TEXT),
            ("Status", select(*statuses)),
            ("Owner", ref("person", people)),
            ("Due", fmt("date", format="YYYY-MM-DD")),
            ("Estimate (days)", fmt("number", precision=1)),
            ("Labels", select("web", "mobile", "api", "docs", is_array=True)),
        ],
        [
            {
                "Task": task,
                "Status": statuses[i % 3],
                "Owner": TEAM[i % len(TEAM)][0],
                "Due": f"2026-04-{1 + i:02d}",
                "Estimate (days)": rng.choice([0.5, 1, 2, 3, 5]),
                "Labels": rng.sample(["web", "mobile", "api", "docs"], 1 + i % 2),
            }
            for i, task in enumerate(TASKS)
        ],
    )
    b.edit_some_rows(hub, tasks, 0.3)
    b.view(
        hub,
        "Open Tasks",
        tasks,
        page,
        view_filter={"column": tasks.columns[1].id, "not_equal": "Done"},
        sorts=[(tasks.columns[3].id, "ascending")],
    )


def _team_wiki(b: Builder) -> None:
    wiki = b.doc("Team Wiki", owner_name=ME, folder_id="fl-Wiki00001", folder_name="Wiki")
    onboarding = b.page(wiki, "Onboarding", markdown=b.prose("Onboarding", 4))
    first_week = b.page(wiki, "First Week", onboarding)
    b.page(wiki, "Tools", first_week)
    b.page(wiki, "Accounts", first_week)
    engineering = b.page(wiki, "Engineering")
    architecture = b.page(wiki, "Architecture", engineering)
    b.page(wiki, "Services", architecture)
    b.page(wiki, "On-call", engineering)
    processes = b.page(wiki, "Processes")
    b.page(wiki, "Code Review", processes)
    b.page(wiki, "Drafts", hidden=True)
    glossary_page = b.page(wiki, "Glossary")
    b.table(
        wiki,
        "Glossary",
        glossary_page,
        [("Term", TEXT), ("Meaning", TEXT)],
        [
            {"Term": "SLO", "Meaning": "Service level objective"},
            {"Term": "RFC", "Meaning": "Request for comments"},
            {"Term": "P0", "Meaning": "Drop everything, fix it now"},
        ],
    )


def _crm(b: Builder, people: Table) -> None:
    crm = b.doc("CRM", owner_name=ME, folder_id="fl-Sales0001", folder_name="Sales")
    pipeline = b.page(crm, "Pipeline")
    accounts_page = b.page(crm, "Accounts")
    accounts = b.table(
        crm,
        "Accounts",
        accounts_page,
        [
            ("Account", TEXT),
            ("Industry", select("Manufacturing", "Software", "Biotech")),
            ("Website", fmt("link", display="url")),
            ("Account owner", ref("person", people)),
        ],
        [
            {
                "Account": c,
                "Industry": ["Manufacturing", "Software", "Biotech"][i % 3],
                "Website": f"https://{c.lower().replace(' ', '')}.example",
                "Account owner": TEAM[i % len(TEAM)][0],
            }
            for i, c in enumerate(COMPANIES)
        ],
    )
    _deals(b, crm, pipeline, accounts)


def _deals(b: Builder, crm: Doc, page: Page, accounts: Table) -> None:
    rng = b.rng
    stages = ["Lead", "Qualified", "Proposal", "Won", "Lost"]
    deals = b.table(
        crm,
        "Deals",
        page,
        [
            ("Deal", TEXT),
            ("Account", ref("lookup", accounts)),
            ("Stage", select(*stages)),
            ("Amount", usd()),
            ("Close date", fmt("date", format="YYYY-MM-DD")),
        ],
        [
            {
                "Deal": f"{COMPANIES[i % 6]} — {['renewal', 'expansion', 'pilot'][i % 3]}",
                "Account": COMPANIES[i % 6],
                "Stage": stages[i % 5],
                "Amount": f"${rng.randint(5, 120) * 1000:,.2f}",
                "Close date": f"2026-0{4 + i % 5}-{1 + i % 28:02d}",
            }
            for i in range(18)
        ],
    )
    b.edit_some_rows(crm, deals, 0.25)
    stage = deals.columns[2].id
    b.view(
        crm,
        "Open Deals",
        deals,
        page,
        view_filter={
            "all": [{"column": stage, "not_equal": "Won"}, {"column": stage, "not_equal": "Lost"}]
        },
    )
    b.view(crm, "Won Deals", deals, page, view_filter={"column": stage, "equal": "Won"})
