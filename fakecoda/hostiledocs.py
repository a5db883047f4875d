"""The test workspace's edge cases: `doc.hostile` (names no file system takes as they are,
texts no CSV reader expects), `doc.wide` (130 columns, views with filters and sorts), and
`build_named_workspace`, a small workspace whose every name a test chooses.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from typing import Any

from fakecoda.builder import TEXT, Builder, _workspace, checkbox, fmt, select
from fakecoda.workspace import Doc, Page, Workspace

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


def hostile_doc(b: Builder) -> None:
    doc = b.doc(
        'Edge/Cases: "☠" <Hostile>?',
        tag="doc.hostile",
        folder_id="fl-Edge00001",
        folder_name="Edge cases",
    )
    pages = _hostile_pages(b, doc)
    _weird_columns_table(b, doc, pages["page.con"])
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


def _hostile_pages(b: Builder, doc: Doc) -> dict[str, Page]:
    """A page per hostile name (by tag), a child, names and ids differing only by case, and
    one name in NFC and NFD."""
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
    b.ids.claim(_swapped(notes.id))
    b.page(doc, "NOTES", tag="page.case_b", page_id=_swapped(notes.id))
    # The same visible name in NFC and NFD.
    b.page(doc, unicodedata.normalize("NFC", "Café"), tag="page.nfc")
    b.page(doc, unicodedata.normalize("NFD", "Café"), tag="page.nfd")
    return pages


def _weird_columns_table(b: Builder, doc: Doc, page: Page) -> None:
    """Column names a CSV header must still tell apart: duplicates, the header's own
    `_row_*` names, empty, a comma, a quote, a newline, an emoji."""
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
        page,
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


def _swapped(object_id: str) -> str:
    prefix, _, suffix = object_id.partition("-")
    if not any(ch.isalpha() for ch in suffix):
        suffix = "aB" + suffix[2:]
    return f"{prefix}-{suffix.swapcase()}"


# ---- doc.wide ------------------------------------------------------------------------------


def _wide_kinds() -> list[dict[str, Any]]:
    """The wide table's column kinds, in turn (made afresh: a workspace owns its formats)."""
    return [
        TEXT,
        fmt("number", precision=2),
        checkbox(),
        fmt("date", format="YYYY-MM-DD"),
        select("red", "green", "blue"),
    ]


def wide_doc(b: Builder, rng: random.Random) -> None:
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
    _wide_table(b, doc, matrix)
    _events_table(b, rng, doc, events_page, child)


def _wide_cell(kind: str, i: int, r: int) -> Any:
    return {
        "text": f"r{r}c{i + 1}",
        "number": round(r * 1.25 + i, 2),
        "checkbox": (r + i) % 2 == 0,
        "date": f"2026-02-{1 + (r + i) % 28:02d}",
        "select": ["red", "green", "blue"][(r + i) % 3],
    }[kind]


def _wide_table(b: Builder, doc: Doc, page: Page) -> None:
    """130 columns (more than a `listColumns` page holds) and a view of them."""
    kinds = _wide_kinds()
    columns = [(f"Col {i + 1:03d}", kinds[i % len(kinds)]) for i in range(130)]
    wide = b.table(
        doc,
        "Wide",
        page,
        columns,
        [[_wide_cell(kinds[i % len(kinds)]["type"], i, r) for i in range(130)] for r in range(6)],
        tag="table.wide",
    )
    b.view(
        doc,
        "Wide (filtered)",
        wide,
        page,
        tag="view.wide",
        view_filter={"column": wide.columns[2].id, "is_true": True},
    )


def _events_table(b: Builder, rng: random.Random, doc: Doc, page: Page, child: Page) -> None:
    """Events, some edited later, and a sorted view of them under a hidden page."""
    kinds_pool = ["deploy", "incident", "release", "meeting"]
    events = b.table(
        doc,
        "Events",
        page,
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
