"""`tap-coda | target-files` through a real pipe: the backup tree, file by file.

One full run of the test workspace (shared docs too, Markdown and HTML) against the fake
Coda API on 127.0.0.1. Every expectation comes from the fake's ground truth (its
`Workspace`), never typed in: each page file is what an export of that page yields, each
CSV cell is the API's row value by DESIGN.md's cell rules, each metadata file is the API's
JSON. Paths are checked by the structural facts DESIGN.md prescribes (a subpage lives in
the folder named by its parent's stem; every name ends with `__{id}`), with
`target_files.layout.safe` as the one naming function borrowed from the product.
"""

from __future__ import annotations

import csv
import json
import re
import typing as t
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from fakecoda import FakeCoda, FakeConfig, build_test_workspace
from fakecoda.render import export_content
from target_files import layout
from tests.helpers import FAST_TAP, PipeResult, run_pipe

if t.TYPE_CHECKING:
    from fakecoda import Doc, Page, Row, Table, Workspace

#: Distinctive, so a leak into any file or log is easy to find.
TOKEN = "tok-TREE-sEcReT-3b9e27c1"
FORMATS = {"markdown": ".md", "html": ".html"}
ROW_FIELDS = ["_row_id", "_row_name", "_row_index", "_created_at", "_updated_at", "_browser_link"]
ROW_KEYS = ["id", "name", "index", "createdAt", "updatedAt", "browserLink"]


@dataclass
class Backup:
    fake: FakeCoda
    root: Path  # everything the test wrote: workdir (configs, logs) and output
    output: Path
    run: Path
    result: PipeResult

    @property
    def ws(self) -> Workspace:
        return self.fake.workspace

    def json(self, path: Path) -> t.Any:
        return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def backup(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Backup]:
    root = tmp_path_factory.mktemp("tree")
    output = root / "backups"
    ws = build_test_workspace(seed=0)
    with FakeCoda(ws, FakeConfig(token=TOKEN, page_clamp=3)) as fake:
        tap_config = {
            "api_url": fake.url,
            **FAST_TAP,
            "include_shared": True,
            "page_formats": list(FORMATS),
        }
        result = run_pipe(tap_config, {"output_dir": str(output)}, root / "work", token=TOKEN)
        result.check()
        runs = [p for p in output.iterdir() if p.is_dir() and not p.is_symlink()]
        assert len(runs) == 1, sorted(p.name for p in output.iterdir())
        yield Backup(fake, root, output, runs[0], result)


# -- ground truth ------------------------------------------------------------------------


def listed_docs(ws: Workspace) -> list[Doc]:
    """What GET /docs lists with include_shared: every opened doc, owned or not."""
    return [d for d in ws.docs if d.listed]


def readable_docs(ws: Workspace) -> list[Doc]:
    return [d for d in listed_docs(ws) if not d.over_api_size_limit]


def exportable(page: Page) -> bool:
    return page.content_type == "canvas" and not page.export_fails


JSON_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")


def has_float(value: t.Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(has_float(v) for v in value)
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    return False


def assert_cell(got: str, value: t.Any) -> None:
    """DESIGN.md: strings and numbers as they are, booleans true/false, arrays and objects
    as compact JSON, null as empty. "A number as it is" is the same JSON number, digit for
    digit; its notation may differ (`1e+21` in the API, `1E+21` on the Singer wire)."""
    if value is None:
        assert got == ""
    elif isinstance(value, bool):
        assert got == ("true" if value else "false")
    elif isinstance(value, str):
        assert got == value
    elif isinstance(value, (int, float)):
        assert JSON_NUMBER.fullmatch(got), got
        assert Decimal(got) == Decimal(json.dumps(value)), (got, value)
    else:
        assert json.loads(got) == value, got
        if not has_float(value):
            assert got == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def assert_csv_row(
    got_row: list[str], ws: Workspace, doc: Doc, table: Table, row: Row, *, base: str, where: str
) -> None:
    """One CSV line against the fake's row: the six `_row_*` cells, then one per column."""
    api = ws.api_row(doc, table, row, "simpleWithArrays", base=base)
    want = [api[k] for k in ROW_KEYS] + [api["values"][c.id] for c in table.columns]
    assert len(got_row) == len(want), (where, row.id)
    for i, (got, value) in enumerate(zip(got_row, want, strict=True)):
        try:
            assert_cell(got, value)
        except AssertionError as exc:
            raise AssertionError(f"{where} row {row.id} cell {i}: {exc}") from None


# -- finding things in the tree by id -----------------------------------------------------


def named(folder: Path, obj_id: str, suffix: str = "") -> list[Path]:
    """Entries of `folder` named `{readable}__{id}{suffix}` (or `…__{id}__N{suffix}` when a
    case-insensitive clash in the folder needed a number)."""
    if not folder.is_dir():
        return []
    pattern = re.compile(rf".+__{re.escape(obj_id)}(__\d+)?{re.escape(suffix)}")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def readable_part(stem: str, obj_id: str) -> str:
    return stem[: stem.rindex(f"__{obj_id}")]


def assert_readable(part: str, *names: str) -> None:
    """The readable part of a name is the safe form of `names` (joined by `__`), cut to
    fit when long: a non-empty prefix of it."""
    full = "__".join(layout.safe(n) for n in names)
    assert part, f"empty readable part for {names!r}"
    if len(full.encode("utf-8")) < 150:
        assert part == full
    else:
        pieces = part.split("__")
        assert all(
            full_piece.startswith(piece)
            for piece, full_piece in zip(pieces, [layout.safe(n) for n in names], strict=True)
        )


def doc_dir(backup: Backup, doc: Doc) -> Path:
    found = named(backup.run / "docs", doc.id)
    assert len(found) == 1, (doc.id, found)
    assert_readable(readable_part(found[0].name, doc.id), doc.name)
    return found[0]


def page_stem_path(backup: Backup, doc: Doc, page: Page) -> Path:
    """Where page P's files live without their extension: `pages/` for a top-level page,
    else inside the folder named by P's parent's stem."""
    ws = backup.ws
    if page.parent_id is None:
        folder = doc_dir(backup, doc) / "pages"
    else:
        folder = page_stem_path(backup, doc, ws.page(doc.id, page.parent_id))
    entries = (
        named(folder, page.id) + named(folder, page.id, ".md") + named(folder, page.id, ".html")
    )
    stems = {p.name.removesuffix(".md").removesuffix(".html") for p in entries}
    if not stems:  # no file and no subpages: the stem is not on disk
        return folder / f"?__{page.id}"
    assert len(stems) == 1, (page.id, stems)
    stem = stems.pop()
    assert_readable(readable_part(stem, page.id), page.name)
    return folder / stem


def table_file(backup: Backup, doc: Doc, table: Table, suffix: str) -> Path:
    folder = doc_dir(backup, doc) / "tables" / table.table_type
    found = named(folder, table.id, suffix)
    assert len(found) == 1, (table.id, suffix, found)
    page = backup.ws.page(doc.id, table.parent_page_id)
    stem = found[0].name.removesuffix(suffix)
    assert_readable(readable_part(stem, table.id), page.name, table.name)
    return found[0]


WINDOWS_RESERVED = re.compile(r"CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]", re.IGNORECASE)


def assert_portable(name: str) -> None:
    """DESIGN.md's rules for a name valid on Windows, macOS and Linux."""
    assert not set(name) & set('<>:"/\\|?*'), name
    assert not any(unicodedata.category(ch) == "Cc" for ch in name), name
    assert not name.startswith(".") and not name.endswith((".", " ")), name
    assert not WINDOWS_RESERVED.fullmatch(name.split(".", maxsplit=1)[0].rstrip(" ")), name
    assert unicodedata.is_normalized("NFC", name), name
    assert len(name.encode("utf-8")) < 256, name


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


# -- the run folder ------------------------------------------------------------------------


def test_one_run_folder_latest_points_at_it_and_nothing_else_is_written(backup: Backup) -> None:
    run = backup.run
    assert {p.name for p in backup.output.iterdir()} == {run.name, "latest", "latest.txt"}
    latest = backup.output / "latest"
    assert latest.is_symlink()
    assert str(latest.readlink()) == run.name  # relative: the tree can be moved
    assert latest.resolve() == run.resolve()
    assert (backup.output / "latest.txt").read_text(encoding="utf-8") == f"{run.name}\n"
    # Nothing outside the run folder: hostile names (`../../etc`, `..`) included.
    work = backup.root / "work"
    allowed = {backup.output / "latest", backup.output / "latest.txt"}
    for path in all_files(backup.root):
        assert path in allowed or path.is_relative_to(run) or path.is_relative_to(work), path
    for path in all_files(run):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(run.resolve()), path
        assert not path.name.startswith("."), path  # no staging or partial leftovers
    for folder in [run, *(p for p in run.rglob("*") if p.is_dir())]:
        names = [p.name for p in folder.iterdir()]
        folded = {unicodedata.normalize("NFC", n).casefold() for n in names}
        assert len(folded) == len(names), f"names clash on a case-insensitive disk: {folder}"
        for name in names:
            assert_portable(name)


def test_token_appears_in_no_file(backup: Backup) -> None:
    needle = TOKEN.encode()
    for path in all_files(backup.root):
        if not path.is_symlink():
            assert needle not in path.read_bytes(), path
    assert TOKEN not in backup.result.target_stdout
    assert TOKEN not in backup.result.tap_stderr + backup.result.target_stderr


# -- pages ---------------------------------------------------------------------------------


def test_every_page_is_its_export_in_its_parents_folder(backup: Backup) -> None:
    ws = backup.ws
    expected_files: set[Path] = set()
    for doc in readable_docs(ws):
        for page in doc.pages:
            stem = page_stem_path(backup, doc, page)
            for fmt, ext in FORMATS.items():
                path = stem.with_name(stem.name + ext)
                if not exportable(page):
                    assert not path.exists(), path
                    continue
                assert path.is_file(), f"{page.name!r} ({page.id}): no {ext} file"
                want = export_content(ws, doc, page, fmt)
                assert path.read_bytes().decode("utf-8") == want, path
                expected_files.add(path)
        got = {p for p in (doc_dir(backup, doc) / "pages").rglob("*") if p.is_file()}
        assert got == {p for p in expected_files if p.is_relative_to(doc_dir(backup, doc))}
    # the test workspace has subpages three levels deep and pages that cannot export
    assert any(len(p.relative_to(backup.run).parts) >= 7 for p in expected_files)
    assert any(not exportable(p) for d in readable_docs(ws) for p in d.pages)


# -- tables --------------------------------------------------------------------------------


def check_header(header: list[str], columns: list[dict[str, t.Any]]) -> None:
    """The facts any correct de-dup satisfies (DESIGN.md: `Name`, `Name__2`, `Name__3`)."""
    assert header[:6] == ROW_FIELDS
    labels = header[6:]
    assert len(labels) == len(columns)
    assert len(set(header)) == len(header), "duplicate CSV headers"
    names = [c["name"] or c["id"] for c in columns]  # an unnamed column is named by its id
    taken: set[str] = set(ROW_FIELDS)
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    for label, name in zip(labels, names, strict=True):
        if counts[name] == 1 and name not in ROW_FIELDS:
            assert label == name  # a unique name is kept exactly
        elif name not in taken:
            assert label == name  # the first of duplicates keeps the name
        else:
            assert re.fullmatch(rf"{re.escape(name)}__([2-9]|\d\d+)", label), (name, label)
        taken.add(name)


def test_every_table_and_view_csv_cell_by_cell(backup: Backup) -> None:
    ws, base = backup.ws, backup.fake.url
    tables = [(d, tb) for d in readable_docs(ws) for tb in d.tables]
    assert {tb.table_type for _, tb in tables} == {"table", "view"}
    for doc, table in tables:
        path = table_file(backup, doc, table, ".csv")
        columns = [ws.api_column(doc, table, c, base=base) for c in table.columns]
        with path.open(encoding="utf-8", newline="") as handle:
            csv.field_size_limit(1 << 30)
            lines = list(csv.reader(handle))
        check_header(lines[0], columns)
        rows = ws.rows_of(doc, table)
        assert len(lines) - 1 == len(rows), path
        for got_row, row in zip(lines[1:], rows, strict=True):
            assert_csv_row(got_row, ws, doc, table, row, base=base, where=path.name)
    assert any(not ws.rows_of(d, tb) for d, tb in tables)  # an empty table has its header
    assert any(len(tb.columns) > 100 for _, tb in tables)


def test_metadata_is_the_api_json(backup: Backup) -> None:
    ws, base = backup.ws, backup.fake.url
    for doc in listed_docs(ws):
        folder = doc_dir(backup, doc)
        assert backup.json(folder / "doc.json") == ws.api_doc(doc, base=base)
        pages, tables = backup.json(folder / "pages.json"), backup.json(folder / "tables.json")
        if doc.over_api_size_limit:  # only its metadata can be backed up
            assert (pages, tables) == ([], [])
            continue
        assert pages == [ws.api_page(doc, p, base=base) for p in ws.pages_in_order(doc)]
        assert tables == [ws.api_table(doc, tb, base=base) for tb in doc.tables]
        for table in doc.tables:
            table_json = backup.json(table_file(backup, doc, table, ".table.json"))
            assert table_json == ws.api_table(doc, table, base=base)
            columns = backup.json(table_file(backup, doc, table, ".columns.json"))
            assert [c.pop("position", i) for i, c in enumerate(columns)] == list(
                range(len(table.columns))
            )
            assert columns == [ws.api_column(doc, table, c, base=base) for c in table.columns]
        tables_dir = folder / "tables"
        files = {p for p in tables_dir.rglob("*") if p.is_file()} if tables_dir.exists() else set()
        assert len(files) == 3 * len(doc.tables)


# -- summary and manifest -------------------------------------------------------------------


def test_summary_counts_and_failures(backup: Backup) -> None:
    ws = backup.ws
    summary = backup.json(backup.run / "summary.json")
    docs = readable_docs(ws)
    tables = [tb for d in docs for tb in d.tables]
    assert summary["run_id"] == backup.run.name
    assert summary["started_at"] <= summary["finished_at"]
    assert summary["docs_found"] == len(listed_docs(ws))
    assert summary["docs_processed"] == len(listed_docs(ws))
    assert summary["pages_exported"] == sum(exportable(p) for d in docs for p in d.pages)
    assert summary["tables_exported"] == sum(tb.table_type == "table" for tb in tables)
    assert summary["views_exported"] == sum(tb.table_type == "view" for tb in tables)
    assert summary["pages_skipped_unchanged"] == summary["tables_skipped_unchanged"] == 0
    assert summary["rows_written"] == sum(len(ws.rows_of(d, tb)) for d in docs for tb in d.tables)

    want_failures = {
        ("page_content", d.id, p.id, fmt)
        for d in docs
        for p in d.pages
        if not exportable(p)
        for fmt in FORMATS
    }
    want_failures |= {("doc", d.id, d.id, None) for d in listed_docs(ws) if d.over_api_size_limit}
    got = [
        (f["object_type"], f["doc_id"], f["object_id"], f["format"]) for f in summary["failures"]
    ]
    assert len(got) == len(set(got))
    assert set(got) == want_failures
    assert summary["status"] == "partial"
    for failure in summary["failures"]:
        assert failure["error"] and "\n" not in failure["error"]


def test_manifest_names_every_file_and_every_path_exists(backup: Backup) -> None:
    ws = backup.ws
    manifest = backup.json(backup.run / "manifest.json")
    assert manifest["run_id"] == backup.run.name
    named_files = {backup.run / "manifest.json", backup.run / "summary.json"}
    by_doc = {d["id"]: d for d in manifest["docs"]}
    assert set(by_doc) == {d.id for d in listed_docs(ws)}
    for doc in listed_docs(ws):
        entry = by_doc[doc.id]
        folder = backup.run / entry["path"]
        assert folder == doc_dir(backup, doc)
        assert (entry["name"], entry["updatedAt"]) == (doc.name, doc.updated_at)
        named_files |= {folder / n for n in ("doc.json", "pages.json", "tables.json")}
        pages = {p["id"]: p for p in entry["pages"]}
        want_pages = [] if doc.over_api_size_limit else doc.pages
        assert set(pages) == {p.id for p in want_pages}
        for page in want_pages:
            got = pages[page.id]
            assert (got["name"], got["updatedAt"]) == (page.name, page.updated_at)
            assert got["status"] == ("exported" if exportable(page) else "failed")
            assert set(got["files"]) == set(FORMATS)
            for fmt, file in got["files"].items():
                if not exportable(page):  # named as failed, with no file
                    assert (file["path"], file["status"]) == (None, "failed")
                    continue
                path = backup.run / file["path"]
                assert path.is_file(), path
                stem = page_stem_path(backup, doc, page)
                assert path == stem.with_name(stem.name + FORMATS[fmt])
                named_files.add(path)
        tables = {x["id"]: x for x in entry["tables"]}
        want_tables = [] if doc.over_api_size_limit else doc.tables
        assert set(tables) == {tb.id for tb in want_tables}
        for table in want_tables:
            got = tables[table.id]
            assert got["status"] == "exported"
            assert got["rowCount"] == ws.api_table(doc, table)["rowCount"]
            assert got["rowCount"] == len(ws.rows_of(doc, table))
            assert got["updatedAt"] == table.updated_at
            paths = {backup.run / f["path"] for f in got["files"].values()}
            assert paths == {table_file(backup, doc, table, s) for s in layout.TABLE_EXTS}
            named_files |= paths
    assert set(all_files(backup.run)) == named_files
    summary = backup.json(backup.run / "summary.json")
    assert manifest["failures"] == summary["failures"]
