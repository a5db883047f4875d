"""A backup run checked against the fake's ground truth, object by object.

Shared by the fault, hostile-name and signal suites. The rule they all prove: every doc,
page (per format) and table the API lists is either in the run folder byte for byte (as
`fakecoda/render.export_content` and the `Workspace.api_*` JSON say) or named in
`summary.json`'s `failures` — never missing silently. And whatever file is there is never
corrupt: even a table whose rows failed part-way holds only true rows, in order.

Paths are found with the helpers of `tree.py` (an object's entry is
`{readable}__{id}`, a subpage lives in its parent's stem folder).
"""

from __future__ import annotations

import csv
import json
import typing as t
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fakecoda.render import export_content
from target_files import layout
from tests.e2e.tree import (
    FORMATS,
    acl_skips,
    assert_csv_row,
    check_header,
    doc_dir,
    exportable,
    named,
    page_stem_path,
)

if t.TYPE_CHECKING:
    from fakecoda import Doc, Table, Workspace

#: Table failures that name the table itself (a `table`, `columns` or `rows` record).
TABLE_FAILURES = ("table", "columns", "rows")

#: A table's files in a run made with the target's defaults: `.rows.jsonl` is written only
#: with its `rows_json` setting, which the tree tests leave off.
DEFAULT_TABLE_EXTS = [ext for ext in layout.TABLE_EXTS if ext != ".rows.jsonl"]


@dataclass
class Tree:
    """One run folder and the workspace it was taken from (duck-types `Backup`)."""

    run: Path
    ws: Workspace
    base: str  # the fake's API URL: hrefs and links in the API JSON embed it

    def json(self, path: Path) -> t.Any:
        return json.loads(path.read_text(encoding="utf-8"))

    @property
    def summary(self) -> dict[str, t.Any]:
        return self.json(self.run / "summary.json")

    @property
    def failures(self) -> list[dict[str, t.Any]]:
        """What this run could not back up: its failures and its skips (what Coda cannot
        serve by design, reported apart from failures)."""
        return [*self.summary["failures"], *self.summary.get("skips", [])]


def baseline_failures(docs: list[Doc]) -> set[tuple[str, str]]:
    """(object_type, object_id) a fault-free run records: what Coda cannot export."""
    found = set()
    for doc in docs:
        if doc.over_api_size_limit:
            found.add(("doc", doc.id))
            continue
        found |= {("page_content", p.id) for p in doc.pages if not exportable(p)}
    return found | acl_skips(docs)


def failure_index(failures: list[dict[str, t.Any]]) -> dict[tuple[str, str | None], dict]:
    """(object_type, object_id or doc id for listings) -> the failure record."""
    index = {}
    for f in failures:
        key = f["object_id"] if f["object_id"] is not None else f["doc_id"]
        index[(f["object_type"], key)] = f
    return index


def _csv_rows(path: Path) -> list[list[str]]:
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _check_table(tree: Tree, doc: Doc, table: Table, covered: bool) -> None:
    ws, base = tree.ws, tree.base
    folder = doc_dir(tree, doc) / "tables" / table.table_type
    exts = DEFAULT_TABLE_EXTS
    found = {ext: named(folder, table.id, ext) for ext in exts}
    for ext, paths in found.items():
        assert len(paths) <= 1, (table.id, ext, paths)
        if not paths:
            assert covered, f"table {table.name!r} ({table.id}): no {ext}, no failure"
    if found[".table.json"]:
        assert tree.json(found[".table.json"][0]) == ws.api_table(doc, table, base=base)
    columns = [ws.api_column(doc, table, c, base=base) for c in table.columns]
    if found[".columns.json"]:
        got = tree.json(found[".columns.json"][0])
        assert [c.pop("position") for c in got] == list(range(len(columns)))
        assert got == columns
    if not found[".csv"]:
        return
    lines = _csv_rows(found[".csv"][0])
    check_header(lines[0], columns)
    rows = ws.rows_of(doc, table)
    if covered:  # rows that failed part-way: what is there is a true prefix
        assert len(lines) - 1 <= len(rows), table.id
    else:
        assert len(lines) - 1 == len(rows), (table.id, len(lines) - 1, len(rows))
    for got_row, row in zip(lines[1:], rows, strict=False):
        assert_csv_row(got_row, ws, doc, table, row, base=base, where=table.id)


def check_run(
    tree: Tree,
    docs: list[Doc],
    *,
    formats: t.Sequence[str] = ("markdown",),
    served: t.Mapping[str, bytes] | None = None,
) -> list[dict[str, t.Any]]:
    """Assert the rule above for these docs (what GET /docs listed); return the failures.
    `served`: page id -> the bytes its export was served as, when that was not the truth
    (an export that is not UTF-8 is kept as served)."""
    ws, base = tree.ws, tree.base
    failures = tree.failures
    index = failure_index(failures)
    summary = tree.summary
    assert summary["status"] == ("partial" if summary["failures"] else "complete")
    known = {d.id for d in docs} | {o.id for d in docs for o in [*d.pages, *d.tables]}
    for f in failures:
        assert f["error"] and "\n" not in f["error"], f
        assert f["object_id"] is None or f["object_id"] in known, f
        assert isinstance(f["attempts"], int) and f["attempts"] >= 1, f

    for doc in docs:
        if ("doc", doc.id) in index and not doc.over_api_size_limit:
            continue  # the whole doc failed (GET /docs/{id}): nothing of it can be there
        assert tree.json(doc_dir(tree, doc) / "doc.json") == ws.api_doc(doc, base=base)
        if doc.over_api_size_limit:
            assert ("doc", doc.id) in index, doc.id
            continue
        pages_failed = ("pages", doc.id) in index
        tables_failed = ("tables", doc.id) in index
        if not pages_failed:
            pages = tree.json(doc_dir(tree, doc) / "pages.json")
            assert pages == [ws.api_page(doc, p, base=base) for p in ws.pages_in_order(doc)]
        for page in doc.pages:
            stem = page_stem_path(tree, doc, page)
            for fmt in formats:
                path = stem.with_name(stem.name + FORMATS[fmt])
                covered = pages_failed or any(
                    f["object_type"] == "page_content"
                    and f["object_id"] == page.id
                    and f["format"] in (fmt, None)
                    for f in failures
                )
                if not exportable(page):
                    assert covered, f"non-canvas page {page.id} not reported"
                if path.is_file() and page.id in (served or {}):
                    assert path.read_bytes() == (served or {})[page.id], path
                elif path.is_file():
                    assert path.read_bytes().decode("utf-8") == export_content(
                        ws, doc, page, fmt
                    ), path
                else:
                    assert covered, f"page {page.name!r} ({page.id}, {fmt}): no file, no failure"
        if not tables_failed and not any(("table", tb.id) in index for tb in doc.tables):
            tables = tree.json(doc_dir(tree, doc) / "tables.json")
            assert tables == [ws.api_table(doc, tb, base=base) for tb in doc.tables]
        for table in doc.tables:
            covered = tables_failed or any((k, table.id) in index for k in TABLE_FAILURES)
            _check_table(tree, doc, table, covered)
    return failures


# -- what a folder tree must be on every file system --------------------------------------

WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{n}" for p in ("COM", "LPT") for n in "0123456789¹²³"]
)


def windows_problem(name: str) -> str | None:
    """Why Windows (NTFS, Win32 API) would refuse or alter this file name, else None."""
    checks = [
        (not name or name in (".", ".."), "empty or a dot name"),
        (any(ch in '<>:"/\\|?*' or ord(ch) < 32 for ch in name), "forbidden characters"),
        (name[-1:] in (".", " "), "ends with a dot or a space (Windows drops it)"),
        (name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES, "a device name"),
        (len(name.encode("utf-16-le")) // 2 > 255, "over 255 UTF-16 code units"),
        (len(name.encode("utf-8")) > 255, "over 255 UTF-8 bytes (Linux, macOS)"),
    ]
    return next((why for bad, why in checks if bad), None)


def fold(name: str) -> str:
    """How case- and normalization-insensitive file systems (NTFS, APFS) compare names."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFC", name).casefold())


def check_portable_tree(output: Path, run: Path) -> None:
    """Everything under `output` is the run folder, `latest` or `latest.txt`; inside the
    run every name is valid on Windows and no two entries of a folder can share a path on
    a case- or normalization-insensitive disk; nothing resolves outside the run."""
    allowed = {output / "latest", output / "latest.txt", output / "state.json"}
    for path in output.iterdir():
        assert path == run or path in allowed, path
    real_run = run.resolve()
    for folder in [run, *(p for p in run.rglob("*") if p.is_dir())]:
        names = [p.name for p in folder.iterdir()]
        folded = [fold(n) for n in names]
        assert len(set(folded)) == len(folded), f"names clash when folded in {folder}"
        for path in folder.iterdir():
            problem = windows_problem(path.name)
            assert problem is None, f"{path.relative_to(run)}: {problem}"
            assert not path.is_symlink(), path
            assert path.resolve().is_relative_to(real_run), path
