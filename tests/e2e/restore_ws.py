"""A small workspace for rows-json and restore tests: a doc with a page tree (a hidden page,
an icon, a subtitle), a table with a calculated column and a view, and a spare doc to
restore into."""

from __future__ import annotations

import typing as t

from fakecoda import Workspace
from fakecoda.builders import TEXT, _workspace, fmt, select

STATES = ["Todo", "Doing", "Done"]


def restore_workspace(rows: int = 12) -> Workspace:
    _, b = _workspace(11, ("ws-AcmeCorp1", "Acme Corp"))  # the fake's usual user and clock
    ops = b.doc("Ops", tag="doc.ops")
    home = b.page(ops, "Home", tag="page.home", subtitle="Where we start")
    home.icon = {
        "name": "rocket",
        "type": "image/png",
        "browserLink": "https://cdn.coda.io/icons/png/color/rocket-32.png",
    }
    plans = b.page(ops, "Plans", home, tag="page.plans")
    b.page(ops, "Q3", plans, tag="page.q3")
    b.page(ops, "Secret", home, hidden=True, tag="page.secret")
    board = b.page(ops, "Board", tag="page.board")
    tasks = b.table(
        ops,
        "Tasks",
        board,
        [
            ("Task", TEXT),
            ("Status", select(*STATES)),
            ("Estimate", fmt("number", precision=1)),
            ("Labels", select("web", "api", "docs", is_array=True)),
            ("Done", fmt("checkbox", displayType="check")),
            ("Score", fmt("number", precision=1), "thisRow.Estimate * 2"),
        ],
        [task(i) for i in range(rows)],
        tag="table.tasks",
    )
    b.view(
        ops,
        "Open",
        tasks,
        board,
        view_filter={"column": tasks.columns[1].id, "not_equal": "Done"},
        tag="view.open",
    )
    spare = b.doc("Spare", tag="doc.spare")
    b.page(spare, "Landing", tag="page.landing")
    b.table(
        spare,
        "Tasks copy",
        spare.pages[0],
        [("Task", TEXT), ("Status", select(*STATES)), ("Estimate", fmt("number", precision=1))],
        [],
        tag="table.copy",
    )
    return b.finish()


def task(i: int) -> dict[str, t.Any]:
    return {
        "Task": f"Task {i}",
        "Status": STATES[i % 3],
        "Estimate": [0.5, 1, 2.5, 8][i % 4],
        "Labels": ["web", "api", "docs"][: 1 + i % 3],
        "Done": i % 2 == 0,
        "Score": [0.5, 1, 2.5, 8][i % 4] * 2,
    }
