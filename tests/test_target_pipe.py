"""End to end: synthetic tap-coda message streams through the real `target-files` script.

The streams are built here from plain dicts, in singer-sdk's parent/child order
(docs/RECORDS.md), and every expected file is computed from those same dicts.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import select
import signal
import stat
import subprocess
import sys
import time
import typing as t
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from target_files.target import TargetFiles
from tests.helpers import viewer_files

TARGET = Path(sys.executable).parent / "target-files"
PREFIX = ["_row_id", "_row_name", "_row_index", "_created_at", "_updated_at", "_browser_link"]
ROW_KEYS = ["id", "name", "index", "createdAt", "updatedAt", "browserLink"]

# -- the tap's side: schemas and message order -------------------------------------------

TS = {"type": ["string", "null"], "format": "date-time"}
STR = {"type": ["string", "null"]}
OBJ = {"type": ["object", "null"]}
INT = {"type": ["integer", "null"]}


def _schema(**props: dict) -> dict:
    return {"type": "object", "properties": props, "additionalProperties": True}


SCHEMAS = {
    "docs": _schema(id=STR, name=STR, createdAt=TS, updatedAt=TS),
    "pages": _schema(doc_id=STR, id=STR, name=STR, parent=OBJ, updatedAt=TS),
    "page_contents": _schema(doc_id=STR, page_id=STR, format=STR, page_updatedAt=TS, content=STR),
    "tables": _schema(
        doc_id=STR, id=STR, name=STR, tableType=STR, parent=OBJ, rowCount=INT, updatedAt=TS
    ),
    "columns": _schema(doc_id=STR, table_id=STR, id=STR, name=STR, position=INT),
    "rows": _schema(
        doc_id=STR,
        table_id=STR,
        id=STR,
        name=STR,
        index=INT,
        createdAt=TS,
        updatedAt=TS,
        values=OBJ,
    ),
    "table_syncs": _schema(
        doc_id=STR, table_id=STR, table_type=STR, mode=STR, rows_emitted=INT, row_count=INT
    ),
    "failures": _schema(
        object_type=STR,
        doc_id=STR,
        object_id=STR,
        name=STR,
        format=STR,
        error=STR,
        http_status=INT,
        attempts=INT,
    ),
}
KEYS = {
    "docs": ["id"],
    "pages": ["doc_id", "id"],
    "page_contents": ["doc_id", "page_id", "format"],
    "tables": ["doc_id", "id"],
    "columns": ["doc_id", "table_id", "id"],
    "rows": ["doc_id", "table_id", "id"],
    "table_syncs": ["doc_id", "table_id"],
    "failures": [],
}


@dataclass
class Table:
    table: dict
    columns: list[dict]
    rows: list[dict]  # every row the table has now
    mode: str = "full"
    sent: list[dict] | None = None  # rows sent this run (None: all of them)


@dataclass
class Page:
    page: dict
    contents: dict[str, str]  # the page's content now, per format
    sent: set[str] | None = None  # formats exported this run (None: all)


@dataclass
class Doc:
    doc: dict
    pages: list[Page]
    tables: list[Table]


@dataclass
class Workspace:
    docs: list[Doc]
    failures: list[dict] = field(default_factory=list)
    others: dict[str, list[dict]] = field(default_factory=dict)
    state: int = 1


def schema_msg(stream: str) -> dict:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": SCHEMAS[stream],
        "key_properties": KEYS[stream],
    }


def rec(stream: str, record: dict) -> dict:
    return {"type": "RECORD", "stream": stream, "record": record}


def state_value(ws: Workspace, step: str) -> dict:
    return {"bookmarks": {"docs": {"run": ws.state, "step": step}}}


def tap_messages(ws: Workspace) -> list[dict]:
    """What singer-sdk makes tap-coda send: children before parents, schemas re-sent."""
    out: list[dict] = [schema_msg("docs")]
    for name, records in ws.others.items():
        out.append(
            {
                "type": "SCHEMA",
                "stream": name,
                "key_properties": [],
                "schema": {"type": "object", "properties": {"id": INT, "at": TS}},
            }
        )
        out += [rec(name, r) for r in records]
    for d in ws.docs:
        out.append(schema_msg("tables"))
        for tb in d.tables:
            out.append(schema_msg("columns"))
            out += [rec("columns", c) for c in tb.columns]
            out.append(schema_msg("rows"))
            sent = tb.rows if tb.sent is None else tb.sent
            out += [rec("rows", r) for r in sent]
            out.append(schema_msg("table_syncs"))
            out.append(
                rec(
                    "table_syncs",
                    {
                        "doc_id": d.doc["id"],
                        "table_id": tb.table["id"],
                        "table_type": tb.table["tableType"],
                        "mode": tb.mode,
                        "rows_emitted": len(sent),
                        "row_count": tb.table["rowCount"],
                    },
                )
            )
            out.append(rec("tables", tb.table))
            out.append({"type": "STATE", "value": state_value(ws, tb.table["id"])})
        out.append(schema_msg("pages"))
        for p in d.pages:
            out.append(schema_msg("page_contents"))
            for fmt, content in p.contents.items():
                if p.sent is None or fmt in p.sent:
                    out.append(
                        rec(
                            "page_contents",
                            {
                                "doc_id": d.doc["id"],
                                "page_id": p.page["id"],
                                "format": fmt,
                                "page_updatedAt": p.page["updatedAt"],
                                "content": content,
                            },
                        )
                    )
            out.append(rec("pages", p.page))
        out.append(rec("docs", d.doc))
        out.append({"type": "STATE", "value": state_value(ws, d.doc["id"])})
    out.append(schema_msg("failures"))
    out += [rec("failures", f) for f in ws.failures]
    out.append({"type": "STATE", "value": state_value(ws, "end")})
    return out


def lines(messages: list[dict]) -> str:
    return "".join(simplejson.dumps(m, use_decimal=True) + "\n" for m in messages)


# -- a synthetic workspace ---------------------------------------------------------------

T0 = "2026-03-07T10:15:30.000Z"
T1 = "2026-03-08T09:00:00.000Z"


def make_doc(doc_id: str, name: str) -> dict:
    return {
        "id": doc_id,
        "type": "doc",
        "name": name,
        "href": f"https://coda.io/apis/v1/docs/{doc_id}",
        "browserLink": f"https://coda.io/d/_d{doc_id}",
        "createdAt": T0,
        "updatedAt": T0,
        "docSize": {"totalRowCount": 3, "overApiSizeLimit": False},
        "someFieldCodaAddedLater": {"kept": True},
    }


def make_page(
    doc_id: str, page_id: str, name: str, parent: str | None = None, updated: str = T0
) -> dict:
    page = {
        "id": page_id,
        "type": "page",
        "name": name,
        "contentType": "canvas",
        "isHidden": False,
        "createdAt": T0,
        "updatedAt": updated,
        "doc_id": doc_id,
        "browserLink": f"https://coda.io/d/_d{doc_id}/_su{page_id}",
    }
    if parent:
        page["parent"] = {"id": parent, "type": "page", "name": "(parent)"}
    return page


def make_table(
    doc_id: str, table_id: str, name: str, page: dict, *, kind: str, rows: int, updated: str = T0
) -> dict:
    return {
        "id": table_id,
        "type": "table",
        "tableType": kind,
        "name": name,
        "parent": {"id": page["id"], "type": "page", "name": page["name"]},
        "rowCount": rows,
        "createdAt": T0,
        "updatedAt": updated,
        "doc_id": doc_id,
        "layout": "default",
        "sorts": [],
    }


def make_columns(
    doc_id: str, table_id: str, spec: list[tuple[str, str]], order: list[int] | None = None
) -> list[dict]:
    """Columns in listing order; `order` gives each one's position (default: as listed)."""
    positions = order or list(range(len(spec)))
    return [
        {
            "id": cid,
            "type": "column",
            "name": name,
            "doc_id": doc_id,
            "table_id": table_id,
            "position": positions[i],
            "format": {"type": "text"},
        }
        for i, (cid, name) in enumerate(spec)
    ]


def make_row(
    doc_id: str, table_id: str, rid: str, index: int, values: dict, *, updated: str = T0
) -> dict:
    return {
        "id": rid,
        "type": "row",
        "name": f"Row {rid}",
        "index": index,
        "createdAt": T0,
        "updatedAt": updated,
        "browserLink": f"https://coda.io/r/{rid}",
        "href": f"https://coda.io/apis/v1/rows/{rid}",
        "values": values,
        "doc_id": doc_id,
        "table_id": table_id,
    }


def first_workspace() -> Workspace:
    a, b = "AbCDeFGH", "DocOps01"
    p1 = make_page(a, "canvas-IjkLmnO", "Launch Status")
    p2 = make_page(a, "canvas-XyZ123", "Subpage Name", parent=p1["id"])
    p3 = make_page(a, "canvas-Case1", "Notes")
    p4 = make_page(a, "canvas-case1", "NOTES")  # same name and id but for case: must not clash
    p5 = make_page(a, "canvas-q3", 'Q3: "Plans" / <draft>?')
    p6 = make_page(b, "canvas-run", "Runbook")
    t1_cols = make_columns(
        a,
        "grid-pqRst-U",
        [
            ("c-name", "Name"),
            ("c-tags", "Tags"),
            ("c-done", "Done"),
            ("c-dup", "Name"),
            ("c-rid", "_row_id"),
            ("c-est", "Estimate"),
            ("c-obj", "Details"),
        ],
        order=[0, 2, 1, 3, 4, 5, 6],
    )
    t1_rows = [
        make_row(
            a,
            "grid-pqRst-U",
            "i-1",
            0,
            {
                "c-name": 'Write, "launch" plan',
                "c-tags": ["a", "b"],
                "c-done": True,
                "c-dup": "dup",
                "c-rid": "x",
                "c-est": Decimal("1.50"),
                "c-obj": {"owner": "Zoë", "n": [1, [2, 3]]},
            },
        ),
        make_row(
            a,
            "grid-pqRst-U",
            "i-2",
            1,
            {
                "c-name": "multi\nline",
                "c-tags": [],
                "c-done": False,
                "c-dup": None,
                "c-rid": "",
                "c-est": 3,
                "c-obj": None,
            },
        ),
        make_row(
            a,
            "grid-pqRst-U",
            "i-3",
            2,
            {
                "c-name": "日本語",
                "c-tags": [["nested"]],
                "c-done": None,
                "c-dup": "d3",
                "c-rid": "r3",
                "c-est": Decimal("-0.25"),
                "c-obj": {},
            },
        ),
    ]
    t1 = Table(make_table(a, "grid-pqRst-U", "Tasks", p1, kind="table", rows=3), t1_cols, t1_rows)
    t2_cols = make_columns(a, "grid-abc123", [("c-name", "Name"), ("c-done", "Done")])
    t2_rows = [
        make_row(a, "grid-abc123", r["id"], i, {k: r["values"][k] for k in ("c-name", "c-done")})
        for i, r in enumerate([t1_rows[0], t1_rows[2]])
    ]
    t2 = Table(
        make_table(a, "grid-abc123", "Open Tasks", p1, kind="view", rows=2), t2_cols, t2_rows
    )
    t3 = Table(
        make_table(b, "grid-empty", "Empty", p6, kind="table", rows=0),
        make_columns(b, "grid-empty", [("c-only", "Only")]),
        [],
    )
    return Workspace(
        docs=[
            Doc(
                make_doc(a, "Product Launch Hub"),
                [
                    Page(p1, {"markdown": "# Launch Status\n\nAll good.\n"}),
                    Page(p2, {"markdown": "## Sub\r\nWindows line ends kept\r\n"}),
                    Page(p3, {"markdown": "notes one"}),
                    Page(p4, {"markdown": "NOTES two"}),
                    Page(p5, {"markdown": "plans"}),
                ],
                [t1, t2],
            ),
            Doc(
                make_doc(b, "Ops"),
                [
                    Page(p6, {"markdown": "runbook md", "html": "<h1>Runbook</h1>"}),
                ],
                [t3],
            ),
        ],
        others={"audit_log": [{"id": 1, "at": T0}, {"id": 2, "at": T1}]},
    )


def second_workspace(prev: Workspace) -> Workspace:
    """The incremental run after `prev`: renames, a delta, unchanged objects, a deletion."""
    ws = copy.deepcopy(prev)
    ws.state = prev.state + 1
    ws.others = {}
    doc_a, doc_b = ws.docs
    p1, p2, p3, p4, p5 = doc_a.pages
    p1.sent = set()  # unchanged: not exported again
    p2.page.update(name="Subpage Renamed", updatedAt=T1)  # renamed and exported again
    p2.contents = {"markdown": "## Sub, renamed\n"}
    p3.page.update(name="Notes Renamed")  # renamed, content not exported again
    p3.sent = set()
    p4.sent = set()  # its export fails this run
    doc_a.pages.remove(p5)  # deleted in Coda
    t1, t2 = doc_a.tables
    changed = copy.deepcopy(t1.rows[1])
    changed["values"]["c-name"] = "changed, in place"
    changed["updatedAt"] = T1
    new = make_row(
        doc_a.doc["id"], t1.table["id"], "i-4", 3, {"c-name": "new row", "c-est": 7}, updated=T1
    )
    t1.rows = [t1.rows[0], changed, t1.rows[2], new]
    t1.table.update(rowCount=4, updatedAt=T1)
    t1.mode, t1.sent = "delta", [changed, new]
    t2.mode, t2.sent = "unchanged", []
    (p6,) = doc_b.pages
    p6.contents["html"] = "<h1>Runbook v2</h1>"
    p6.sent = {"html"}
    (t3,) = doc_b.tables
    t3.table["name"] = "Empty Renamed"
    t3.mode, t3.sent = "unchanged", []
    ws.failures = [
        {
            "object_type": "page_content",
            "doc_id": doc_a.doc["id"],
            "object_id": p4.page["id"],
            "name": p4.page["name"],
            "format": "markdown",
            "error": "export timed out",
            "http_status": None,
            "attempts": 6,
        }
    ]
    return ws


# -- running the real script -------------------------------------------------------------


def write_config(tmp_path: Path, out: Path, **extra: t.Any) -> Path:
    cfg = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    cfg.write_text(json.dumps({"output_dir": str(out), **extra}), encoding="utf-8")
    return cfg


def run_target(cfg: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TARGET), "--config", str(cfg)],
        input=text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def latest(out: Path) -> Path:
    return out / (out / "latest.txt").read_text(encoding="utf-8").strip()


def load(path: Path) -> t.Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def api(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("doc_id", "table_id")}


def expected_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return simplejson.dumps(value, use_decimal=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def expected_header(columns: list[dict]) -> list[str]:
    used, out = set(PREFIX), list(PREFIX)
    for c in sorted(columns, key=lambda c: c["position"]):
        name, n = c["name"], 1
        while name in used:
            n += 1
            name = f"{c['name']}__{n}"
        used.add(name)
        out.append(name)
    return out


def expected_csv(tb: Table) -> list[list[str]]:
    ids = [c["id"] for c in sorted(tb.columns, key=lambda c: c["position"])]
    return [expected_header(tb.columns)] + [
        [expected_cell(r.get(k)) for k in ROW_KEYS]
        + [expected_cell(r["values"].get(i)) for i in ids]
        for r in tb.rows
    ]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def doc_dir(run: Path, d: Doc) -> Path:
    return run / "docs" / f"{d.doc['name']}__{d.doc['id']}"


def page_file(run: Path, d: Doc, p: Page, fmt: str = "markdown") -> Path:
    by_id = {x.page["id"]: x.page for x in d.pages}
    chain, parent = [], (p.page.get("parent") or {}).get("id")
    while parent in by_id:
        chain.insert(0, f"{by_id[parent]['name']}__{parent}")
        parent = (by_id[parent].get("parent") or {}).get("id")
    ext = {"markdown": ".md", "html": ".html"}[fmt]
    return doc_dir(run, d).joinpath("pages", *chain, f"{p.page['name']}__{p.page['id']}{ext}")


def table_base(run: Path, d: Doc, tb: Table) -> Path:
    t_ = tb.table
    return (
        doc_dir(run, d)
        / "tables"
        / t_["tableType"]
        / f"{t_['parent']['name']}__{t_['name']}__{t_['id']}"
    )


def manifest_index(run: Path) -> dict[str, dict]:
    out = {}
    for doc in load(run / "manifest.json")["docs"]:
        out[doc["id"]] = doc
        for obj in doc["pages"] + doc["tables"]:
            out[obj["id"]] = obj
    return out


# -- tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    """A full run then an incremental run into one output folder (shared by tests that
    only read the result)."""
    tmp = tmp_path_factory.mktemp("pipe")
    out = tmp / "backups"
    ws1 = first_workspace()
    r1 = run_target(write_config(tmp, out, run_id="run-1"), lines(tap_messages(ws1)))
    assert r1.returncode == 0, r1.stderr
    ws2 = second_workspace(ws1)
    r2 = run_target(write_config(tmp, out, run_id="run-2"), lines(tap_messages(ws2)))
    assert r2.returncode == 0, r2.stderr
    return {"out": out, "ws1": ws1, "ws2": ws2, "r1": r1, "r2": r2}


def test_full_run_tree_file_by_file(two_runs: dict[str, t.Any]) -> None:
    out, ws = two_runs["out"], two_runs["ws1"]
    run = out / "run-1"
    expected_files = {
        run / "manifest.json",
        run / "summary.json",
        run / "other" / "audit_log.jsonl",
    }
    for d in ws.docs:
        dd = doc_dir(run, d)
        assert load(dd / "doc.json") == d.doc  # unknown fields and the API's strings kept
        # singer-sdk would have parsed these date-times (the schema says format: date-time)
        # and written them back as "…+00:00": the target keeps the tap's text
        assert f'"updatedAt": "{T0}"' in (dd / "doc.json").read_text(encoding="utf-8")
        assert load(dd / "pages.json") == [api(p.page) for p in d.pages]
        assert load(dd / "tables.json") == [api(tb.table) for tb in d.tables]
        expected_files |= {dd / "doc.json", dd / "pages.json", dd / "tables.json"}
        for p in d.pages:
            if p.page["id"] in ("canvas-case1", "canvas-q3"):
                continue  # checked below: their names are changed by the rules
            for fmt, content in p.contents.items():
                f = page_file(run, d, p, fmt)
                assert f.read_bytes() == content.encode("utf-8")
                expected_files.add(f)
        for tb in d.tables:
            base = table_base(run, d, tb)
            assert read_csv(base.with_name(base.name + ".csv")) == expected_csv(tb)
            assert load(base.with_name(base.name + ".table.json")) == api(tb.table)
            assert load(base.with_name(base.name + ".columns.json")) == [
                api(c) for c in sorted(tb.columns, key=lambda c: c["position"])
            ]
            expected_files |= {
                base.with_name(base.name + e) for e in (".csv", ".table.json", ".columns.json")
            }
    # names that differ only by case get distinct files; unsafe characters are replaced
    d = ws.docs[0]
    pages_dir = doc_dir(run, d) / "pages"
    assert (pages_dir / "Notes__canvas-Case1.md").read_text(encoding="utf-8") == "notes one"
    clash = pages_dir / "NOTES__canvas-case1__2.md"
    assert clash.read_text(encoding="utf-8") == "NOTES two"
    (plans,) = pages_dir.glob("*__canvas-q3.md")
    assert not set('<>:"/\\|?*') & set(plans.name)
    assert plans.read_text(encoding="utf-8") == "plans"
    expected_files |= {clash, plans}
    assert {p for p in run.rglob("*") if p.is_file()} == expected_files | viewer_files(run)
    others = [json.loads(x) for x in (run / "other" / "audit_log.jsonl").read_text().splitlines()]
    assert others == ws.others["audit_log"]  # unknown streams are kept, timestamps raw


def test_full_run_summary_manifest_and_state(two_runs: dict[str, t.Any]) -> None:
    out, ws, r1 = two_runs["out"], two_runs["ws1"], two_runs["r1"]
    run = out / "run-1"
    summary = load(run / "summary.json")
    tables = [tb for d in ws.docs for tb in d.tables]
    assert summary["run_id"] == "run-1"
    assert summary["status"] == "complete"
    assert summary["failures"] == []
    assert summary["docs_found"] == summary["docs_processed"] == len(ws.docs)
    assert summary["pages_exported"] == sum(len(d.pages) for d in ws.docs)
    assert summary["pages_skipped_unchanged"] == 0
    assert summary["tables_exported"] == sum(tb.table["tableType"] == "table" for tb in tables)
    assert summary["views_exported"] == sum(tb.table["tableType"] == "view" for tb in tables)
    assert summary["tables_skipped_unchanged"] == 0
    assert summary["rows_written"] == sum(len(tb.rows) for tb in tables)
    assert summary["started_at"] <= summary["finished_at"]
    index = manifest_index(run)
    for tb in tables:
        entry = index[tb.table["id"]]
        assert entry["status"] == "exported"
        assert entry["rowCount"] == tb.table["rowCount"]
        assert entry["files"]["csv"]["source"] == "run-1"
        assert (run / entry["files"]["csv"]["path"]).is_file()
    # STATE: exactly the last one the tap sent, once, after the run was in place
    assert r1.stdout.splitlines() == [json.dumps(state_value(ws, "end"))]


def test_permissions_are_private(two_runs: dict[str, t.Any]) -> None:
    out = two_runs["out"]
    for run in (out / "run-1", out / "run-2"):
        for path in [run, *run.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            # a finished run's files are read-only; its folders stay the owner's
            assert mode == (0o700 if path.is_dir() else 0o400), path
    assert stat.S_IMODE((out / "latest.txt").stat().st_mode) == 0o600


def test_incremental_run_carries_merges_and_moves(two_runs: dict[str, t.Any]) -> None:
    out, ws1, ws2 = two_runs["out"], two_runs["ws1"], two_runs["ws2"]
    run1, run2 = out / "run-1", out / "run-2"
    assert (out / "latest.txt").read_text(encoding="utf-8") == "run-2\n"
    assert (out / "latest").readlink().as_posix() == "run-2"  # relative
    doc_a, doc_b = ws2.docs
    a1, b1 = ws1.docs
    p1, p2, p3, p4 = doc_a.pages
    # not exported again → the same file, hard-linked from the previous run
    for old, new in [
        (page_file(run1, a1, a1.pages[0]), page_file(run2, doc_a, p1)),
        (page_file(run1, a1, a1.pages[2]), page_file(run2, doc_a, p3)),
        (page_file(run1, b1, b1.pages[0]), page_file(run2, doc_b, doc_b.pages[0])),
    ]:
        assert new.stat().st_ino == old.stat().st_ino, new
    # renamed: the new name gives the path, the old one is gone
    assert page_file(run2, doc_a, p2).read_text(encoding="utf-8") == p2.contents["markdown"]
    assert page_file(run2, doc_a, p3).read_text(encoding="utf-8") == p3.contents["markdown"]
    assert not page_file(run2, a1, a1.pages[1]).exists()
    assert not page_file(run2, a1, a1.pages[2]).exists()
    # the child of a page keeps living in its parent's folder
    assert page_file(run2, doc_a, p2).parent.name == f"{p1.page['name']}__{p1.page['id']}"
    # deleted in Coda → absent
    assert not list((doc_dir(run2, doc_a) / "pages").glob("*__canvas-q3*"))
    # one format exported again, the other carried
    p6 = doc_b.pages[0]
    assert page_file(run2, doc_b, p6, "html").read_text(encoding="utf-8") == p6.contents["html"]
    assert page_file(run2, doc_b, p6).read_text(encoding="utf-8") == p6.contents["markdown"]
    # delta: the previous CSV merged with the new rows (changed in place, new appended)
    t1, t2 = doc_a.tables
    base = table_base(run2, doc_a, t1)
    assert read_csv(base.with_name(base.name + ".csv")) == expected_csv(t1)
    # unchanged: carried (hard link), also under a new name
    for tb, old_tb, d in [(t2, a1.tables[1], doc_a), (doc_b.tables[0], b1.tables[0], doc_b)]:
        new_csv = table_base(run2, d, tb)
        new_csv = new_csv.with_name(new_csv.name + ".csv")
        old_csv = table_base(run1, d, old_tb)
        old_csv = old_csv.with_name(old_csv.name + ".csv")
        assert new_csv.stat().st_ino == old_csv.stat().st_ino
        assert read_csv(new_csv) == expected_csv(tb)
    old_t3 = table_base(run2, b1, b1.tables[0])
    assert not old_t3.with_name(old_t3.name + ".csv").exists()
    # the export that failed this run: the earlier copy kept, marked failed
    # (its name no longer clashes with "Notes", renamed, so it lost the __2)
    p4_file = page_file(run2, doc_a, p4)
    assert p4_file.read_text(encoding="utf-8") == p4.contents["markdown"]
    index = manifest_index(run2)
    assert index[p4.page["id"]]["status"] == "failed"
    assert index[p4.page["id"]]["files"]["markdown"]["source"] == "run-1"
    assert index[p1.page["id"]]["status"] == "unchanged"
    assert index[p3.page["id"]]["files"]["markdown"]["source"] == "run-1"
    assert index[p2.page["id"]]["status"] == "exported"
    assert index[t1.table["id"]]["files"]["csv"]["source"] == "run-2"
    assert index[t1.table["id"]]["syncMode"] == "delta"
    assert index[t2.table["id"]]["status"] == "unchanged"
    assert "canvas-q3" not in index
    # summary: counts of this run; the tap's failure makes it partial
    summary = load(run2 / "summary.json")
    assert summary["status"] == "partial"
    assert [f["object_id"] for f in summary["failures"]] == [p4.page["id"]]
    assert summary["failures"][0]["error"] == ws2.failures[0]["error"]
    assert summary["pages_exported"] == 2  # p2 and p6
    assert summary["pages_skipped_unchanged"] == 2  # p1 and p3
    assert summary["tables_exported"] == 1 and summary["views_exported"] == 0
    assert summary["tables_skipped_unchanged"] == 2
    assert summary["rows_written"] == len(t1.sent or [])
    assert two_runs["r2"].stdout.splitlines() == [json.dumps(state_value(ws2, "end"))]


def test_carried_file_missing_in_latest_is_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "b"
    ws1 = first_workspace()
    assert run_target(write_config(tmp_path, out), lines(tap_messages(ws1))).returncode == 0
    run1 = latest(out)
    doc_b = ws1.docs[1]
    gone = table_base(run1, doc_b, doc_b.tables[0])
    gone.with_name(gone.name + ".csv").unlink()
    ws2 = copy.deepcopy(ws1)
    for d in ws2.docs:
        for p in d.pages:
            p.sent = set()
        for tb in d.tables:
            tb.mode, tb.sent = "unchanged", []
    ws2.others = {}
    res = run_target(write_config(tmp_path, out), lines(tap_messages(ws2)))
    assert res.returncode == 0, res.stderr  # failures are data: the run is promoted
    run2 = latest(out)
    assert run2 != run1
    summary = load(run2 / "summary.json")
    assert summary["status"] == "partial"
    (failure,) = summary["failures"]
    assert failure["object_id"] == doc_b.tables[0].table["id"]
    assert failure["reported_by"] == "target-files"
    assert "previous copy damaged: missing" in failure["error"]
    assert "the next run fetches it again" in failure["error"]
    (damaged,) = summary["damaged_carried"]
    assert (damaged["object_id"], damaged["reason"]) == (doc_b.tables[0].table["id"], "missing")
    assert manifest_index(run2)[doc_b.tables[0].table["id"]]["status"] == "failed"
    assert summary["pages_skipped_unchanged"] == sum(len(d.pages) for d in ws1.docs)


@pytest.fixture
def one_good_run(tmp_path: Path) -> tuple[Path, Workspace, str]:
    out = tmp_path / "b"
    ws = first_workspace()
    assert run_target(write_config(tmp_path, out), lines(tap_messages(ws))).returncode == 0
    return out, ws, (out / "latest.txt").read_text(encoding="utf-8")


def assert_nothing_promoted(out: Path, before: str, res: subprocess.CompletedProcess[str]) -> None:
    assert res.returncode != 0
    assert res.stdout == ""  # no STATE: Meltano keeps the old bookmarks
    assert (out / "latest.txt").read_text(encoding="utf-8") == before
    assert (out / "latest").readlink().as_posix() == before.strip()
    runs = [p.name for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert runs == [before.strip()]  # no new run, no partial folder left


def test_truncated_input_is_not_promoted(
    one_good_run: tuple[Path, Workspace, str], tmp_path: Path
) -> None:
    out, ws, before = one_good_run
    text = lines(tap_messages(ws))
    res = run_target(write_config(tmp_path, out), text[: len(text) // 2 - 7])
    assert_nothing_promoted(out, before, res)
    assert "not valid JSON" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("cut", ["inside_doc", "between_docs"])
def test_input_that_stops_early_is_not_promoted(
    one_good_run: tuple[Path, Workspace, str], tmp_path: Path, cut: str
) -> None:
    out, ws, before = one_good_run
    messages = tap_messages(ws)
    if cut == "inside_doc":  # the tap died after a table, before its doc record
        end = (
            next(
                i
                for i, m in enumerate(messages)
                if m.get("stream") == "tables" and m["type"] == "RECORD"
            )
            + 1
        )
    else:  # after a whole doc, before the next one and the closing failures stream
        end = (
            next(
                i
                for i, m in enumerate(messages)
                if m.get("stream") == "docs" and m["type"] == "RECORD"
            )
            + 1
        )
    res = run_target(write_config(tmp_path, out), lines(messages[:end]))
    assert_nothing_promoted(out, before, res)
    assert "input ended early" in res.stderr


def test_sigterm_abandons_the_run(
    one_good_run: tuple[Path, Workspace, str], tmp_path: Path
) -> None:
    out, ws, before = one_good_run
    messages = tap_messages(ws)
    proc = subprocess.Popen(
        [str(TARGET), "--config", str(write_config(tmp_path, out))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdin is not None
    proc.stdin.write(lines(messages[: len(messages) // 2]))
    proc.stdin.flush()
    deadline = time.time() + 30
    while not list(out.glob(".partial-*")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    res = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert proc.returncode == 128 + signal.SIGTERM
    assert_nothing_promoted(out, before, res)


def test_state_is_written_only_after_promotion(tmp_path: Path) -> None:
    out = tmp_path / "b"
    ws = first_workspace()
    proc = subprocess.Popen(
        [str(TARGET), "--config", str(write_config(tmp_path, out))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(lines(tap_messages(ws)))  # every STATE of the run, input still open
    proc.stdin.flush()
    time.sleep(1.5)
    ready, _, _ = select.select([proc.stdout], [], [], 0)
    assert not ready  # nothing on stdout while the run is not in place
    assert not (out / "latest.txt").exists()
    proc.stdin.close()
    stdout = proc.stdout.read()
    proc.wait(timeout=60)
    assert proc.returncode == 0
    assert stdout.splitlines() == [json.dumps(state_value(ws, "end"))]
    assert (latest(out) / "manifest.json").is_file()


def test_failed_promotion_writes_no_state(
    one_good_run: tuple[Path, Workspace, str], tmp_path: Path
) -> None:
    out, ws, before = one_good_run
    proc = subprocess.Popen(
        [str(TARGET), "--config", str(write_config(tmp_path, out, run_id="taken"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdin is not None
    proc.stdin.write(lines(tap_messages(ws)))
    proc.stdin.flush()
    deadline = time.time() + 30
    while not (out / ".partial-taken").exists() and time.time() < deadline:
        time.sleep(0.05)
    (out / "taken").mkdir()  # someone else took the name while the run was written
    (out / "taken" / "theirs.txt").write_text("not ours", encoding="utf-8")
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert stdout == ""
    assert (out / "latest.txt").read_text(encoding="utf-8") == before
    assert (out / "taken" / "theirs.txt").read_text(encoding="utf-8") == "not ours"
    assert not (out / ".partial-taken").exists()
    errors = [x for x in stderr.splitlines() if "ERROR" in x]
    assert len(errors) == 1 and "not promoted" in errors[0], stderr


def test_stale_partial_folders_are_removed(
    one_good_run: tuple[Path, Workspace, str], tmp_path: Path
) -> None:
    out, ws, _ = one_good_run
    stale = out / ".partial-2020-01-01T000000Z"
    (stale / ".staging").mkdir(parents=True)
    (stale / ".lock").write_text("12345\n", encoding="utf-8")  # nobody holds its lock
    res = run_target(write_config(tmp_path, out), lines(tap_messages(ws)))
    assert res.returncode == 0, res.stderr
    assert not stale.exists()
    assert "Removed 1 partial folder" in res.stderr


# -- in-process checks of singer-sdk's drain rules and rarer inputs -----------------------


def run_in_process(out: Path, text: str, **config: t.Any) -> tuple[TargetFiles, str]:
    target = TargetFiles(config={"output_dir": str(out), "fsync": False, **config})
    buf = io.StringIO()
    with redirect_stdout(buf):
        target.process_lines(io.StringIO(text))
        during = buf.getvalue()
        target.process_endofpipe()
    return target, during + "\0" + buf.getvalue()[len(during) :]


def test_intermediate_drains_do_not_write_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = first_workspace()
    drains = []
    original = TargetFiles._write_state_message

    def counting(self: TargetFiles, state: dict) -> None:
        drains.append(state)
        original(self, state)

    monkeypatch.setattr(TargetFiles, "_write_state_message", counting)
    monkeypatch.setattr(TargetFiles, "_MAX_RECORD_AGE_IN_MINUTES", -1.0)  # drain every record
    _, output = run_in_process(tmp_path / "b", lines(tap_messages(ws)))
    during, after = output.split("\0")
    assert len(drains) > 10  # singer-sdk did drain (and "wrote" state) many times
    assert during == ""
    assert after.splitlines() == [json.dumps(state_value(ws, "end"))]


def test_rows_before_columns_are_kept(tmp_path: Path) -> None:
    ws = first_workspace()
    messages = tap_messages(ws)
    cols = [m for m in messages if m.get("stream") == "columns"]
    rest = [m for m in messages if m.get("stream") != "columns"]
    at = next(i for i, m in enumerate(rest) if m.get("stream") == "table_syncs")
    reordered = rest[:at] + cols + rest[at:]  # columns after rows (and before the sync)
    run_in_process(tmp_path / "b", lines(reordered))
    d = ws.docs[0]
    tb = d.tables[0]
    base = table_base(latest(tmp_path / "b"), d, tb)
    assert read_csv(base.with_name(base.name + ".csv")) == expected_csv(tb)


def test_batch_messages_are_read(tmp_path: Path) -> None:
    records = [{"id": i, "at": T0, "n": Decimal("1.10")} for i in range(5)]
    batch = tmp_path / "events-1.jsonl.gz"
    with gzip.open(batch, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(simplejson.dumps(r, use_decimal=True) + "\n")
    messages = [
        {
            "type": "SCHEMA",
            "stream": "events",
            "key_properties": ["id"],
            "schema": {
                "type": "object",
                "properties": {"id": INT, "at": TS, "n": {"type": "number"}},
            },
        },
        {
            "type": "BATCH",
            "stream": "events",
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "manifest": [batch.as_uri()],
        },
        {"type": "STATE", "value": {"bookmarks": {"events": {"id": 4}}}},
    ]
    _, output = run_in_process(tmp_path / "b", lines(messages))
    got = (latest(tmp_path / "b") / "other" / "events.jsonl").read_text(encoding="utf-8")
    assert [json.loads(x, parse_float=Decimal) for x in got.splitlines()] == records
    assert '"n":1.10' in got
    assert output.split("\0")[1].strip() == json.dumps({"bookmarks": {"events": {"id": 4}}})


def test_empty_input_is_not_a_backup(tmp_path: Path) -> None:
    out = tmp_path / "b"
    res = run_target(write_config(tmp_path, out), "")
    assert res.returncode == 1
    assert res.stdout == ""
    assert not (out / "latest.txt").exists()


def test_failed_listings_keep_the_earlier_copies(tmp_path: Path) -> None:
    out = tmp_path / "b"
    ws1 = first_workspace()
    assert (
        run_target(write_config(tmp_path, out, run_id="one"), lines(tap_messages(ws1))).returncode
        == 0
    )
    ws2 = copy.deepcopy(ws1)
    ws2.others = {}
    doc_a, doc_b = ws2.docs
    a_id, b_id = doc_a.doc["id"], doc_b.doc["id"]
    ws2.docs = [doc_a]  # doc B could not be read at all this run
    doc_a.pages = doc_a.pages[:1]  # the page listing broke after the first page
    doc_a.pages[0].sent = set()
    t1, t2 = doc_a.tables
    doc_a.tables = [t1]  # getTable failed for the view
    t1.mode, t1.sent = "unchanged", []
    ws2.failures = [
        {
            "object_type": "doc",
            "doc_id": b_id,
            "object_id": b_id,
            "name": None,
            "error": "HTTP 503",
            "http_status": 503,
            "attempts": 6,
        },
        {
            "object_type": "pages",
            "doc_id": a_id,
            "object_id": None,
            "name": "page listing",
            "error": "HTTP 500",
            "http_status": 500,
            "attempts": 6,
        },
        {
            "object_type": "table",
            "doc_id": a_id,
            "object_id": t2.table["id"],
            "name": t2.table["name"],
            "error": "HTTP 500",
            "http_status": 500,
            "attempts": 6,
        },
    ]
    res = run_target(write_config(tmp_path, out, run_id="two"), lines(tap_messages(ws2)))
    assert res.returncode == 0, res.stderr
    one, two = out / "one", out / "two"
    files_one = {p.relative_to(one) for p in one.rglob("*") if p.is_file()}
    files_two = {p.relative_to(two) for p in two.rglob("*") if p.is_file()}
    # everything of run one is still there (the audit_log stream was not sent again)
    assert files_one - files_two == {Path("other/audit_log.jsonl")}
    for rel in files_one & files_two:
        if rel.parts[0] == "docs" and rel.name not in ("pages.json", "tables.json"):
            if rel.suffix == ".json" and "Launch Hub" in rel.parts[1]:
                continue  # metadata of doc A is written fresh
            assert (two / rel).read_bytes() == (one / rel).read_bytes(), rel
    index = manifest_index(two)
    assert index[b_id]["status"] == "failed"
    assert all(index[p.page["id"]]["status"] == "failed" for p in ws1.docs[0].pages[1:])
    assert index[ws1.docs[0].pages[0].page["id"]]["status"] == "unchanged"
    assert index[t2.table["id"]]["status"] == "failed"
    assert index[t1.table["id"]]["status"] == "unchanged"
    summary = load(two / "summary.json")
    assert summary["status"] == "partial"
    assert summary["docs_found"] == 2 and summary["docs_processed"] == 1
    assert len(summary["failures"]) == len(ws2.failures)


def test_a_record_that_breaks_its_schema_is_kept_and_reported(tmp_path: Path) -> None:
    out = tmp_path / "b"
    ws1 = first_workspace()
    run_in_process(out, lines(tap_messages(ws1)))
    first = latest(out)
    ws2 = copy.deepcopy(ws1)
    ws2.others = {}
    doc_a = ws2.docs[0]
    t1 = doc_a.tables[0]
    t1.mode, t1.sent = "failed", t1.rows[:1]  # the tap's row read broke after one row
    ws2.failures = [
        {
            "object_type": "rows",
            "doc_id": doc_a.doc["id"],
            "object_id": t1.table["id"],
            "name": t1.table["name"],
            "error": "HTTP 500",
            "http_status": 500,
            "attempts": 6,
        }
    ]
    messages = tap_messages(ws2)
    strict = copy.deepcopy(SCHEMAS["table_syncs"])
    strict["properties"]["mode"] = {"type": "string", "enum": ["full", "delta", "unchanged"]}
    for m in messages:
        if m["type"] == "SCHEMA" and m["stream"] == "table_syncs":
            m["schema"] = strict
    _, output = run_in_process(out, lines(messages))
    second = latest(out)
    assert second != first
    assert output.split("\0")[1].strip() == json.dumps(state_value(ws2, "end"))
    summary = load(second / "summary.json")
    assert summary["status"] == "partial"
    kinds = sorted((f["object_type"], f.get("stream")) for f in summary["failures"])
    assert kinds == [("record", "table_syncs"), ("rows", None)]
    (invalid,) = [f for f in summary["failures"] if f["object_type"] == "record"]
    assert invalid["object_id"] == t1.table["id"] and "'failed'" in invalid["error"]
    # the failed table keeps its earlier, complete CSV
    old, new = table_base(first, doc_a, t1), table_base(second, doc_a, t1)
    assert (
        new.with_name(new.name + ".csv").stat().st_ino
        == old.with_name(old.name + ".csv").stat().st_ino
    )
    assert manifest_index(second)[t1.table["id"]]["status"] == "failed"


def test_rows_skip_no_step_that_changes_them(tmp_path: Path) -> None:
    """Rows take a short path through the target (no copy, no identity map); with
    `add_record_metadata` they take singer-sdk's whole path. The CSVs must not differ."""
    ws = first_workspace()
    text = lines(tap_messages(ws))
    runs = {}
    for name, extra in (("short", {}), ("sdk", {"add_record_metadata": True})):
        out = tmp_path / name
        res = run_target(write_config(tmp_path, out, **extra), text)
        assert res.returncode == 0, res.stderr
        runs[name] = latest(out)
    tables = [(d, tb) for d in ws.docs for tb in d.tables]
    assert tables
    for d, tb in tables:
        base = table_base(runs["short"], d, tb)
        csv_path = base.with_name(base.name + ".csv")
        sdk_base = table_base(runs["sdk"], d, tb)
        assert read_csv(csv_path) == expected_csv(tb)
        assert csv_path.read_bytes() == sdk_base.with_name(sdk_base.name + ".csv").read_bytes()


def test_a_row_whose_values_is_not_an_object_is_kept_and_reported(tmp_path: Path) -> None:
    ws = first_workspace()
    doc = ws.docs[0]
    tb = doc.tables[0]
    bad = tb.rows[1]
    bad["values"] = ["not", "an", "object"]
    out = tmp_path / "out"
    res = run_target(write_config(tmp_path, out), lines(tap_messages(ws)))
    assert res.returncode == 0, res.stderr
    run = latest(out)
    summary = load(run / "summary.json")
    (invalid,) = [f for f in summary["failures"] if f["object_type"] == "record"]
    assert invalid["object_id"] == bad["id"] and "`values` is not an object" in invalid["error"]
    base = table_base(run, doc, tb)
    got = read_csv(base.with_name(base.name + ".csv"))
    bad["values"] = {}  # the row is kept with its own fields and empty cells
    assert got == expected_csv(tb)


# -- skips: what Coda cannot give is not a failure of the run -----------------------------


def skip_record(doc_id: str, page: dict, reason: str) -> dict:
    return {
        "object_type": "page_content",
        "doc_id": doc_id,
        "object_id": page["id"],
        "name": page["name"],
        "format": "markdown",
        "error": "Coda cannot export this page",
        "http_status": None,
        "attempts": 1,
        "kind": "skip",
        "reason": reason,
    }


def test_a_run_with_only_skips_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "b"
    ws = first_workspace()
    doc = ws.docs[0]
    skipped = doc.pages[-1]
    skipped.sent = set()  # the tap could not export it
    ws.failures = [skip_record(doc.doc["id"], skipped.page, "unexportable_page")]
    res = run_target(write_config(tmp_path, out), lines(tap_messages(ws)))
    assert res.returncode == 0, res.stderr
    run = latest(out)
    summary = load(run / "summary.json")
    assert summary["status"] == "complete"
    assert summary["failures"] == []
    assert summary["skipped"] == 1
    assert summary["skips"] == [{**ws.failures[0], "reported_by": "tap"}]
    manifest = load(run / "manifest.json")
    assert (manifest["status"], manifest["failures"]) == ("complete", [])
    assert manifest["skips"] == summary["skips"]
    entry = manifest_index(run)[skipped.page["id"]]
    assert entry["status"] == "skipped"
    assert entry["files"]["markdown"] == {"path": None, "status": "skipped", "source": None}
    assert summary["pages_failed"] == 0
    assert summary["pages_exported"] == sum(len(d.pages) for d in ws.docs) - 1


def test_skips_and_failures_are_kept_apart(tmp_path: Path) -> None:
    out = tmp_path / "b"
    ws = first_workspace()
    doc = ws.docs[0]
    skipped, failed = doc.pages[-1], doc.pages[-2]
    skipped.sent, failed.sent = set(), set()
    failure = {**skip_record(doc.doc["id"], failed.page, "x"), "error": "HTTP 500"}
    del failure["kind"], failure["reason"]
    ws.failures = [skip_record(doc.doc["id"], skipped.page, "forbidden"), failure]
    res = run_target(write_config(tmp_path, out), lines(tap_messages(ws)))
    assert res.returncode == 0, res.stderr
    run = latest(out)
    summary = load(run / "summary.json")
    assert summary["status"] == "partial"
    assert [f["object_id"] for f in summary["failures"]] == [failed.page["id"]]
    assert [f["object_id"] for f in summary["skips"]] == [skipped.page["id"]]
    index = manifest_index(run)
    assert index[skipped.page["id"]]["status"] == "skipped"
    assert index[failed.page["id"]]["status"] == "failed"
    assert summary["pages_failed"] == 1
