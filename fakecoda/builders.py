"""Generated workspaces: `test` (rich and hostile), `demo` (realistic), `bench` (large).

Everything is deterministic for a seed: ids, values and timestamps come from one
`random.Random(seed)` and the workspace's fake clock. `Workspace.tags` names the objects
tests care about (e.g. `ws.tagged("page.export_fails")`); the README lists them.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from fakecoda import doclogic
from fakecoda.workspace import (
    Column,
    Doc,
    FakeClock,
    Page,
    Row,
    Table,
    Workspace,
    markdown_to_html,
)

ID_ALPHABET = string.ascii_letters + string.digits + "-_"
BUILD_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)
# Mutations made by tests start here, after every generated timestamp.
TEST_EPOCH = datetime(2026, 3, 7, 10, 15, 30, tzinfo=timezone.utc)

ME = "Test User"
ME_EMAIL = "test.user@example.com"

# word pools, written as prose for reading
PROSE_WORDS = str.split(
    "launch plan team review goal metric customer roadmap ship design docs budget risk owner "
    "timeline scope feedback quality release sprint"
)
BENCH_WORDS = str.split(
    "alpha beta gamma delta review ship plan fix docs api web mobile infra data"
)

ColSpec = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


def fmt(kind: str, is_array: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "isArray": is_array, **extra}


def select(*options: str, is_array: bool = False) -> dict[str, Any]:
    return fmt("select", is_array, options=[{"name": o} for o in options])


def ref(kind: str, table: Table, is_array: bool = False) -> dict[str, Any]:
    """person/lookup formats reference a table (ReferenceColumnFormat requires it)."""
    return fmt(kind, is_array, table={"id": table.id})


TEXT = fmt("text")


class Builder:
    """Creates docs, pages, tables and rows on a workspace with ticking timestamps."""

    def __init__(self, ws: Workspace, rng: random.Random) -> None:
        self.ws = ws
        self.rng = rng
        self._ids: set[str] = set()

    def id(self, prefix: str, length: int = 10) -> str:
        while True:
            candidate = prefix + "".join(self.rng.choices(ID_ALPHABET, k=length))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def doc_id(self) -> str:
        """Doc ids start with a letter (`AbCDeFGH`-like), so they never look like options."""
        return self.id(self.rng.choice(string.ascii_letters), 9)

    def tick(self, seconds: float = 60.0) -> str:
        return self.ws.clock.tick(timedelta(seconds=seconds))

    def doc(self, name: str, *, tag: str | None = None, **fields: Any) -> Doc:
        ts = self.tick(3600)
        doc = Doc(
            id=fields.pop("doc_id", None) or self.doc_id(),
            name=name,
            owner_email=fields.pop("owner_email", ME_EMAIL),
            is_owner=fields.pop("is_owner", True),
            listed=fields.pop("listed", True),
            workspace_id=fields.pop("workspace_id", "ws-AcmeCorp1"),
            workspace_name=fields.pop("workspace_name", "Acme Corp"),
            folder_id=fields.pop("folder_id", "fl-Shared001"),
            created_at=ts,
            updated_at=ts,
            **fields,
        )
        self.ws.docs.append(doc)
        if tag:
            self.ws.tags[tag] = doc.id
        return doc

    def page(
        self,
        doc: Doc,
        name: str,
        parent: Page | None = None,
        *,
        tag: str | None = None,
        markdown: str | None = None,
        html: str | None = None,
        content_type: str = "canvas",
        hidden: bool = False,
        subtitle: str = "",
        export_fails: str | None = None,
        page_id: str | None = None,
    ) -> Page:
        ts = self.tick()
        if markdown is None:
            markdown = self.prose(name)
        page = Page(
            id=page_id or self.id("canvas-"),
            name=name,
            subtitle=subtitle,
            parent_id=parent.id if parent else None,
            content_type=content_type,
            is_hidden=hidden,
            created_at=ts,
            updated_at=ts,
            markdown=markdown,
            html=html if html is not None else markdown_to_html(markdown),
            export_fails=export_fails,
        )
        self._ids.add(page.id)
        doc.pages.append(page)
        if tag:
            self.ws.tags[tag] = page.id
        return page

    def table(
        self,
        doc: Doc,
        name: str,
        page: Page,
        columns: Sequence[ColSpec],
        rows: Sequence[dict[str, Any] | Sequence[Any]] = (),
        *,
        tag: str | None = None,
        layout: str = "default",
        row_seconds: float = 1.0,
    ) -> Table:
        ts = self.tick()
        cols = []
        for spec in columns:
            formula = spec[2] if len(spec) == 3 else None
            cols.append(
                Column(
                    id=self.id("c-"),
                    name=spec[0],
                    format=dict(spec[1]),
                    calculated=formula is not None,
                    formula=formula,
                )
            )
        cols[0].display = True
        table = Table(
            id=self.id("grid-"),
            name=name,
            table_type="table",
            parent_page_id=page.id,
            columns=cols,
            rows=[],
            created_at=ts,
            updated_at=ts,
            display_column_id=cols[0].id,
            layout=layout,
        )
        doc.tables.append(table)
        self.add_rows(table, rows, row_seconds)
        if tag:
            self.ws.tags[tag] = table.id
        return table

    def add_rows(
        self,
        table: Table,
        rows: Sequence[dict[str, Any] | Sequence[Any]],
        row_seconds: float = 1.0,
    ) -> None:
        by_name: dict[str, str] = {}
        for col in table.columns:
            by_name.setdefault(col.name, col.id)
        display = table.display_column_id
        for spec in rows:
            values: dict[str, Any] = dict.fromkeys((c.id for c in table.columns), None)
            if isinstance(spec, dict):
                for key, value in spec.items():
                    values[by_name[key]] = value
            else:
                for col, value in zip(table.columns, spec, strict=False):
                    values[col.id] = value
            ts = self.tick(row_seconds)
            self.ws.version += 1
            name = values[display]
            table.rows.append(
                Row(
                    id=self.id("i-"),
                    name=_text(name),
                    values=values,
                    created_at=ts,
                    updated_at=ts,
                    version=self.ws.version,
                )
            )
            table.updated_at = ts

    def view(
        self,
        doc: Doc,
        name: str,
        base: Table,
        page: Page,
        *,
        tag: str | None = None,
        view_filter: dict[str, Any] | None = None,
        sorts: Sequence[tuple[str, str]] = (),
        layout: str = "default",
    ) -> Table:
        ts = self.tick()
        view = Table(
            id=self.id("table-"),
            name=name,
            table_type="view",
            parent_page_id=page.id,
            columns=base.columns,
            rows=[],
            created_at=ts,
            updated_at=ts,
            display_column_id=base.display_column_id,
            layout=layout,
            base_table_id=base.id,
            view_filter=view_filter,
            sorts=list(sorts),
        )
        doc.tables.append(view)
        if tag:
            self.ws.tags[tag] = view.id
        return view

    def col(self, table: Table, name: str) -> str:
        return next(c.id for c in table.columns if c.name == name)

    def edit_some_rows(self, doc: Doc, table: Table, fraction: float) -> None:
        """Some rows were edited after creation: updatedAt > createdAt, higher version."""
        for row in table.rows:
            if self.rng.random() < fraction:
                self.ws.version += 1
                row.version = self.ws.version
                row.updated_at = table.updated_at = self.tick(7)

    def prose(self, title: str, paragraphs: int = 2) -> str:
        words = PROSE_WORDS
        body = []
        for _ in range(paragraphs):
            sentence = " ".join(self.rng.choice(words) for _ in range(self.rng.randint(8, 20)))
            body.append(sentence.capitalize() + ".")
        return f"# {title}\n\n" + "\n\n".join(body) + "\n"

    def finish(self) -> Workspace:
        """Views and docs take their latest change; tests' mutations start at TEST_EPOCH."""
        for doc in self.ws.docs:
            for table in doc.tables:
                if table.table_type == "view" and table.base_table_id:
                    base = next(t for t in doc.tables if t.id == table.base_table_id)
                    table.updated_at = max(table.updated_at, base.updated_at)
            stamps = [doc.created_at]
            stamps += [p.updated_at for p in doc.pages] + [t.updated_at for t in doc.tables]
            doc.updated_at = max(stamps)
        doclogic.furnish(self.ws)
        self.ws.clock.current = max(self.ws.clock.current, TEST_EPOCH)
        return self.ws


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _workspace(seed: int, user_workspace: tuple[str, str]) -> tuple[Workspace, Builder]:
    ws_id, ws_name = user_workspace
    ws = Workspace(
        docs=[],
        user={
            "name": ME,
            "loginId": ME_EMAIL,
            "tokenName": "tap-coda",
            "scoped": False,
            "pictureLink": "https://cdn.coda.io/avatars/default_avatar.png",
            "workspace": {
                "id": ws_id,
                "type": "workspace",
                "browserLink": f"https://coda.io/docs?workspaceId={ws_id}",
                "name": ws_name,
            },
        },
        clock=FakeClock(BUILD_START, timedelta(seconds=1)),
    )
    return ws, Builder(ws, random.Random(seed))


# ---- the test workspace --------------------------------------------------------------------

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

HOSTILE_TEXT: list[Any] = [
    "plain text",
    "comma, separated, values",
    'He said "hello", then left',
    "line one\nline two\nline three",
    "windows\r\nline endings",
    "emoji 🚀🎉 and a family 👩‍👩‍👧‍👦",
    "עברית RTL text مرحبا",
    "\u202eevil RTL override\u202c",
    "zero\u200bwidth\u200djoiner",
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(A1:A2)",
    "@cmd",
    "tab\tseparated",
    "   leading and trailing spaces   ",
    "007",
    "",
    None,
    "NUL\x00byte and \x07bell",
    "<script>alert('x')</script>",
    "back\\slash and /slash",
    "Café",
    "Cafe\u0301",
    "```already fenced```",
    "| pipe | chars |",
    "very long " * 500,
]


def build_test_workspace(seed: int = 0) -> Workspace:
    """≈6 docs, ≈45 pages, ≈19 tables, ≈240 rows, with every awkward case a backup meets."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    rng = b.rng
    ws.people = {name: email for name, email, _ in PEOPLE}
    _main_doc(b, rng)
    _hostile_doc(b)
    _wide_doc(b, rng)
    main = ws.doc(ws.tags["doc.main"])

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
        [("Name", TEXT), ("Date", fmt("date", format="YYYY-MM-DD")), ("Done", _checkbox())],
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
        [("Item", TEXT), ("Qty", fmt("number", precision=0)), ("Price", _usd())],
        [
            {"Item": f"Widget {c}", "Qty": i * 3, "Price": f"${i * 2.5:,.2f}"}
            for i, c in enumerate("ABCDEFGH")
        ],
        tag="table.unlisted_inventory",
    )

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
    return b.finish()


def _checkbox() -> dict[str, Any]:
    return fmt("checkbox", displayType="check")


def _usd() -> dict[str, Any]:
    return fmt("currency", currencyCode="USD", precision=2, format="currency")


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
    backlog_page = b.page(doc, "Backlog", content_type="table", markdown="", tag="page.table")
    b.page(
        doc,
        "Broken Export",
        tag="page.export_fails",
        export_fails="Failed to export page content: the page could not be rendered.",
    )
    b.page(doc, "Empty Page", markdown="", html="", tag="page.empty")
    b.page(doc, "Archive", hidden=True, tag="page.hidden_leaf")

    people = b.table(
        doc,
        "People",
        team,
        [
            ("Name", TEXT),
            ("Email", fmt("email", display="iconAndEmail")),
            ("Role", select("Engineer", "Designer", "PM", "Support", "Sales", "Lead")),
            ("Manager", TEXT),  # replaced by a self-lookup below, once the table exists
            ("Started", fmt("date", format="YYYY-MM-DD")),
            ("Active", _checkbox()),
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

    statuses = ["To Do", "In Progress", "Done", "Blocked"]
    tag_pool = ["Frontend", "Backend", "Docs", "Design", "QA"]
    names = [p[0] for p in PEOPLE]
    task_rows = []
    for i in range(45):
        status = statuses[i % 4] if i % 7 else "Done"
        estimate: Any = [0, 1, 2.5, -1.5, 13, 1e21, 0.1][i % 7]
        task_rows.append(
            {
                "Task": f"Task {i + 1}: "
                + rng.choice(["write spec", "ship", "review, fix", "test"]),
                "Status": status,
                "Owner": names[i % len(names)],
                "Tags": [None, ["Frontend"], ["Backend", "Docs"], rng.sample(tag_pool, 3)][i % 4],
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
    tasks = b.table(
        doc,
        "Tasks",
        launch,
        [
            ("Task", TEXT),
            ("Status", select(*statuses)),
            ("Owner", ref("person", people)),
            ("Tags", select(*tag_pool, is_array=True)),
            ("Estimate", fmt("number", precision=1, useThousandsSeparator=True)),
            ("Budget", _usd()),
            ("Due", fmt("date", format="YYYY-MM-DD")),
            ("Done", _checkbox()),
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
        task_rows,
        tag="table.tasks",
    )
    b.edit_some_rows(doc, tasks, 0.3)
    b.view(
        doc,
        "Open Tasks",
        tasks,
        launch,
        tag="view.open_tasks",
        view_filter={"column": b.col(tasks, "Status"), "not_equal": "Done"},
        sorts=[(b.col(tasks, "Due"), "ascending")],
    )
    b.view(
        doc,
        "My Tasks",
        tasks,
        team,
        tag="view.my_tasks",
        view_filter={"column": b.col(tasks, "Owner"), "equal": ME},
        layout="card",
    )
    b.table(
        doc,
        "Tasks",  # same name as the launch page's table, on another page
        team,
        [("Task", TEXT), ("Status", select(*statuses))],
        [{"Task": f"Old task {i}", "Status": "Done"} for i in range(5)],
        tag="table.tasks_dup",
    )
    b.table(
        doc,
        "Backlog",
        backlog_page,
        [("Item", TEXT), ("Priority", fmt("number", precision=0)), ("Size", select("S", "M", "L"))],
        [{"Item": f"Idea {i}", "Priority": i % 5, "Size": "SML"[i % 3]} for i in range(40)],
        tag="table.backlog",
    )
    b.table(
        doc,
        "Risks",
        timeline,
        [("Risk", TEXT), ("Likelihood", fmt("number")), ("Impact", select("Low", "High"))],
        [],
        tag="table.empty",
    )
    b.table(
        doc,
        "Salaries",
        salaries,
        [("Name", TEXT), ("Salary", fmt("currency", currencyCode="EUR", precision=0))],
        [{"Name": n, "Salary": f"€{50000 + i * 1000:,}"} for i, (n, _, _) in enumerate(PEOPLE[:4])],
        tag="table.under_hidden",
    )


HOSTILE_PAGE_NAMES = {
    "page.dotdot": "../../etc",
    "page.con": "CON",
    "page.reserved_chars": 'a/b\\c:d*?"<>|',
    "page.trailing_dot": "Trailing dot.",
    "page.trailing_space": "Trailing space ",
    "page.control_chars": "NUL\x00 and \x07bell\x1b[31m ctrl\x7f",
    "page.invisible_marks": "Zero\u200bwidth\u200d join \u200e\u200fmarks \u202eevil\u202c",
    "page.rtl": "שלום עולם — مرحبا",
    "page.long_name": ("Ωmega ñame 🚀 " * 80)[:1000],
    "page.dots": "..",
    "page.leading_dot": ".hidden",
    "page.emoji": "🚀 Launch 🎉",
    "page.lpt": "lpt1.txt",
    "page.blank": "   ",
}


def _hostile_doc(b: Builder) -> None:
    doc = b.doc(
        'Edge/Cases: "☠" <Hostile>?',
        tag="doc.hostile",
        folder_id="fl-Edge00001",
        folder_name="Edge cases",
    )
    pages: dict[str, Page] = {}
    for tag, name in HOSTILE_PAGE_NAMES.items():
        pages[tag] = b.page(
            doc,
            name,
            tag=tag,
            markdown=(
                f"# {name}\n\nText with | pipes |, <b>html</b>, `code`, emoji 🎉, "
                "RTL \u202eevil\u202c and a [link](https://example.com/?a=1&b=2).\r\n"
            ),
        )
    b.page(doc, "passwd", pages["page.dotdot"], tag="page.dotdot_child")
    # Names that differ only by case, with ids that differ only by case (macOS, Windows).
    notes = b.page(doc, "Notes", tag="page.case_a")
    b._ids.add(_swapped(notes.id))
    b.page(doc, "NOTES", tag="page.case_b", page_id=_swapped(notes.id))
    # The same visible name in NFC and NFD.
    b.page(doc, unicodedata.normalize("NFC", "Café"), tag="page.nfc")
    b.page(doc, unicodedata.normalize("NFD", "Café"), tag="page.nfd")

    weird_rows = [
        [
            text if text is not None else None,
            f"dup {i}",
            f"dup2 {i}",
            f"fake-row-id-{i}",
            f"fake-row-name-{i}",
            "blank header",
            "a,b",
            'q"uote',
            "multi\nline",
            "🎉",
            [i, i * 1.5, -i][i % 3],
        ]
        for i, text in enumerate(HOSTILE_TEXT[:12])
    ]
    b.table(
        doc,
        "Weird Columns",
        pages["page.con"],
        [
            ("Name", TEXT),
            ("Name", TEXT),
            ("Name__2", TEXT),
            ("_row_id", TEXT),
            ("_row_name", TEXT),
            ("", TEXT),
            ("a,b", TEXT),
            ('quo"te', TEXT),
            ("new\nline", TEXT),
            ("Émoji 🎉 column", TEXT),
            ("Amount", fmt("number", precision=2)),
        ],
        weird_rows,
        tag="table.weird_columns",
    )
    b.table(
        doc,
        "../../etc/passwd",
        pages["page.dotdot"],
        [("Key", TEXT), ("Value", TEXT)],
        [
            {"Key": "root", "Value": "x:0:0"},
            {"Key": "CON", "Value": "NUL"},
            {"Key": "..", "Value": "."},
        ],
        tag="table.dotdot",
    )
    for tag in ("table.same_name_a", "table.same_name_b"):
        b.table(
            doc,
            "Data",  # two tables of one name on one page
            pages["page.reserved_chars"],
            [("Key", TEXT), ("Value", fmt("number"))],
            [{"Key": "one", "Value": 1}, {"Key": "two", "Value": 2}],
            tag=tag,
        )


def _swapped(object_id: str) -> str:
    prefix, _, suffix = object_id.partition("-")
    if not any(ch.isalpha() for ch in suffix):
        suffix = "aB" + suffix[2:]
    return f"{prefix}-{suffix.swapcase()}"


def _wide_doc(b: Builder, rng: random.Random) -> None:
    doc = b.doc(
        "Wide & Views",
        tag="doc.wide",
        workspace_id="ws-Personal2",
        workspace_name="Personal",
        folder_id="fl-Experim01",
        folder_name="Experiments",
    )
    matrix = b.page(doc, "Matrix", tag="page.matrix")
    hidden = b.page(doc, "Hidden Parent", hidden=True, tag="page.hidden_parent")
    child = b.page(doc, "Visible Child", hidden, tag="page.visible_child_of_hidden")
    events_page = b.page(doc, "Events", tag="page.events")

    kinds: list[dict[str, Any]] = [
        TEXT,
        fmt("number", precision=2),
        _checkbox(),
        fmt("date", format="YYYY-MM-DD"),
        select("red", "green", "blue"),
    ]
    columns = [(f"Col {i + 1:03d}", kinds[i % len(kinds)]) for i in range(130)]

    def cell(i: int, r: int) -> Any:
        kind = kinds[i % len(kinds)]["type"]
        return {
            "text": f"r{r}c{i + 1}",
            "number": round(r * 1.25 + i, 2),
            "checkbox": (r + i) % 2 == 0,
            "date": f"2026-02-{1 + (r + i) % 28:02d}",
            "select": ["red", "green", "blue"][(r + i) % 3],
        }[kind]

    wide = b.table(
        doc,
        "Wide",
        matrix,
        columns,
        [[cell(i, r) for i in range(130)] for r in range(6)],
        tag="table.wide",
    )
    b.view(
        doc,
        "Wide (filtered)",
        wide,
        matrix,
        tag="view.wide",
        view_filter={"column": wide.columns[2].id, "is_true": True},
    )
    kinds_pool = ["deploy", "incident", "release", "meeting"]
    events = b.table(
        doc,
        "Events",
        events_page,
        [
            ("What", TEXT),
            ("When", fmt("dateTime", dateFormat="YYYY-MM-DD", timeFormat="HH:mm")),
            ("Kind", select(*kinds_pool)),
            ("Value", fmt("number", precision=0)),
        ],
        [
            {
                "What": f"Event {i}",
                "When": f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z",
                "Kind": rng.choice(kinds_pool),
                "Value": rng.randint(-100, 100),
            }
            for i in range(60)
        ],
        tag="table.events",
    )
    b.edit_some_rows(doc, events, 0.2)
    b.view(
        doc,
        "Incidents",
        events,
        child,
        tag="view.incidents",
        view_filter={"column": events.columns[2].id, "equal": "incident"},
        sorts=[(events.columns[1].id, "descending")],
    )


# ---- the demo workspace --------------------------------------------------------------------


def build_demo_workspace(seed: int = 0) -> Workspace:
    """What `make demo` serves: three realistic docs, no hostile content."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    rng = b.rng
    team = [
        ("Alice Atkins", "alice@acme.example"),
        ("Bob Brown", "bob@acme.example"),
        ("Chloé Dubois", "chloe@acme.example"),
        ("Dmitri Ivanov", "dmitri@acme.example"),
        (ME, ME_EMAIL),
    ]
    ws.people = dict(team)

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
            for i, (n, e) in enumerate(team)
        ],
    )
    statuses = ["Not started", "In progress", "Done"]
    tasks = b.table(
        hub,
        "Tasks",
        status,
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
                "Owner": team[i % len(team)][0],
                "Due": f"2026-04-{1 + i:02d}",
                "Estimate (days)": rng.choice([0.5, 1, 2, 3, 5]),
                "Labels": rng.sample(["web", "mobile", "api", "docs"], 1 + i % 2),
            }
            for i, task in enumerate(
                [
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
            )
        ],
    )
    b.edit_some_rows(hub, tasks, 0.3)
    b.view(
        hub,
        "Open Tasks",
        tasks,
        status,
        view_filter={"column": tasks.columns[1].id, "not_equal": "Done"},
        sorts=[(tasks.columns[3].id, "ascending")],
    )

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

    crm = b.doc("CRM", owner_name=ME, folder_id="fl-Sales0001", folder_name="Sales")
    pipeline = b.page(crm, "Pipeline")
    accounts_page = b.page(crm, "Accounts")
    companies = ["Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"]
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
                "Account owner": team[i % len(team)][0],
            }
            for i, c in enumerate(companies)
        ],
    )
    stages = ["Lead", "Qualified", "Proposal", "Won", "Lost"]
    deals = b.table(
        crm,
        "Deals",
        pipeline,
        [
            ("Deal", TEXT),
            ("Account", ref("lookup", accounts)),
            ("Stage", select(*stages)),
            ("Amount", _usd()),
            ("Close date", fmt("date", format="YYYY-MM-DD")),
        ],
        [
            {
                "Deal": f"{companies[i % 6]} — {['renewal', 'expansion', 'pilot'][i % 3]}",
                "Account": companies[i % 6],
                "Stage": stages[i % 5],
                "Amount": f"${rng.randint(5, 120) * 1000:,.2f}",
                "Close date": f"2026-0{4 + i % 5}-{1 + i % 28:02d}",
            }
            for i in range(18)
        ],
    )
    b.edit_some_rows(crm, deals, 0.25)
    b.view(
        crm,
        "Open Deals",
        deals,
        pipeline,
        view_filter={
            "all": [
                {"column": deals.columns[2].id, "not_equal": "Won"},
                {"column": deals.columns[2].id, "not_equal": "Lost"},
            ]
        },
    )
    b.view(
        crm,
        "Won Deals",
        deals,
        pipeline,
        view_filter={"column": deals.columns[2].id, "equal": "Won"},
    )
    return b.finish()


# ---- a minimal workspace with given names --------------------------------------------------


def build_named_workspace(
    doc_names: Sequence[str],
    page_names: Sequence[str],
    table_names: Sequence[str] = (),
    column_names: Sequence[str] = ("Name",),
    seed: int = 0,
) -> Workspace:
    """A small workspace whose every name is given (hostile-name tests).

    Each doc holds every page — page i (i odd) is a subpage of page i-1, so names meet in
    subpage folders too — and every table (table j on page j mod the page count) with
    every column and two rows of plain text, plus one view of its first table.
    """
    _, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    if not page_names:
        raise ValueError("a named workspace needs at least one page name")
    columns = [(name, TEXT) for name in column_names or ["Name"]]
    for doc_name in doc_names:
        doc = b.doc(doc_name)
        pages: list[Page] = []
        for i, name in enumerate(page_names):
            pages.append(b.page(doc, name, pages[i - 1] if i % 2 else None))
        tables = [
            b.table(
                doc,
                name,
                pages[j % len(pages)],
                columns,
                [[f"r{r} c{c}" for c in range(len(columns))] for r in range(2)],
            )
            for j, name in enumerate(table_names)
        ]
        if tables:
            b.view(doc, table_names[0], tables[0], pages[-1])
    return b.finish()


# ---- the bench workspace -------------------------------------------------------------------


def build_bench_workspace(
    docs: int = 4, pages: int = 100, tables: int = 30, rows: int = 100_000, seed: int = 0
) -> Workspace:
    """A realistic-size account: `pages`, `tables` (every fifth a view) and `rows` in total."""
    ws, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    rng = b.rng
    names = [
        f"{first} {last}"
        for first in ("Ann", "Ben", "Cal", "Dee", "Eli")
        for last in ("Ng", "Ode", "Park")
    ]
    ws.people = {n: n.lower().replace(" ", ".") + "@acme.example" for n in names}
    words = BENCH_WORDS
    statuses = ["Backlog", "In progress", "Review", "Done"]
    tag_pool = ["web", "api", "mobile", "infra", "data"]

    created_docs = [b.doc(f"Bench Doc {d + 1}", owner_name=ME) for d in range(docs)]
    doc_pages: list[list[Page]] = [[] for _ in range(docs)]
    for i in range(pages):
        d = i % docs
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
            b.page(created_docs[d], f"Page {i + 1}", parent, markdown=b.prose(f"Page {i + 1}", 6))
        )

    base_count = tables - tables // 5
    weights = [rng.paretovariate(1.2) for _ in range(base_count)]
    total_w = sum(weights)
    sizes = [int(rows * w / total_w) for w in weights]
    sizes[0] += rows - sum(sizes)
    bases: list[tuple[Doc, Table]] = []
    for t in range(base_count):
        d = t % docs
        doc = created_docs[d]
        page = rng.choice(doc_pages[d])
        n_rows = sizes[t]
        table = b.table(
            doc,
            f"Table {t + 1}",
            page,
            [
                ("Name", TEXT),
                ("Status", select(*statuses)),
                ("Owner", fmt("person", table={"id": "grid-pending000"})),
                ("Tags", select(*tag_pool, is_array=True)),
                ("Amount", _usd()),
                ("Estimate", fmt("number", precision=1)),
                ("Due", fmt("date", format="YYYY-MM-DD")),
                ("Done", _checkbox()),
                ("Link", fmt("link", display="url")),
                ("Notes", TEXT),
            ],
            [],
        )
        table.columns[2].format["table"] = {"id": table.id}
        choice, rnd = rng.choice, rng.random
        b.add_rows(
            table,
            [
                [
                    f"{choice(words)} {choice(words)} {r}",
                    choice(statuses),
                    choice(names),
                    [choice(tag_pool)] if rnd() < 0.7 else None,
                    f"${int(rnd() * 100000) / 100:,.2f}",
                    int(rnd() * 400) / 10,
                    f"2026-{1 + r % 12:02d}-{1 + r % 28:02d}",
                    rnd() < 0.3,
                    f"https://example.com/item/{r}",
                    " ".join(choice(words) for _ in range(8)),
                ]
                for r in range(n_rows)
            ],
            row_seconds=0.001,
        )
        b.edit_some_rows(doc, table, 0.05)
        bases.append((doc, table))
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


__all__ = [
    "HOSTILE_PAGE_NAMES",
    "HOSTILE_TEXT",
    "build_bench_workspace",
    "build_demo_workspace",
    "build_test_workspace",
]
