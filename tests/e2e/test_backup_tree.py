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
import typing as t
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakecoda import FakeCoda, build_test_workspace
from fakecoda.render import export_content
from tests.e2e.tree import (
    FORMATS,
    acl_skips,
    all_files,
    assert_csv_row,
    assert_portable,
    check_header,
    doc_dir,
    doc_logic_files,
    exportable,
    listed_docs,
    page_stem_path,
    readable_docs,
    table_file,
)
from tests.e2e.truth import DEFAULT_TABLE_EXTS
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, PipeResult, run_pipe, viewer_files

if t.TYPE_CHECKING:
    from fakecoda import Workspace

#: Distinctive, so a leak into any file or log is easy to find.
TOKEN = "tok-TREE-sEcReT-3b9e27c1"


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
def backup(
    start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[Backup]:
    root = tmp_path_factory.mktemp("tree")
    output = root / "backups"
    ws = build_test_workspace(seed=0)
    with start_module_fake(ws, token=TOKEN, page_clamp=3) as fake:
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
    want_failures |= {(what, doc_id, doc_id, None) for what, doc_id in acl_skips(docs)}
    got = [
        (f["object_type"], f["doc_id"], f["object_id"], f["format"])
        for f in [*summary["failures"], *summary.get("skips", [])]
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
    named_files = {backup.run / n for n in ("manifest.json", "summary.json", "folders.json")}
    by_doc = {d["id"]: d for d in manifest["docs"]}
    assert set(by_doc) == {d.id for d in listed_docs(ws)}
    for doc in listed_docs(ws):
        entry = by_doc[doc.id]
        folder = backup.run / entry["path"]
        assert folder == doc_dir(backup, doc)
        assert (entry["name"], entry["updatedAt"]) == (doc.name, doc.updated_at)
        named_files |= {folder / n for n in ("doc.json", "pages.json", "tables.json")}
        named_files |= {folder / n for n in doc_logic_files(doc)}
        pages = {p["id"]: p for p in entry["pages"]}
        want_pages = [] if doc.over_api_size_limit else doc.pages
        assert set(pages) == {p.id for p in want_pages}
        for page in want_pages:
            got = pages[page.id]
            assert (got["name"], got["updatedAt"]) == (page.name, page.updated_at)
            assert got["status"] in (("exported",) if exportable(page) else ("failed", "skipped"))
            assert set(got["files"]) == set(FORMATS)
            for fmt, file in got["files"].items():
                if not exportable(page):  # named as failed, with no file
                    assert file["path"] is None
                    assert file["status"] == got["status"]
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
            assert paths == {table_file(backup, doc, table, s) for s in DEFAULT_TABLE_EXTS}
            named_files |= paths
    assert set(all_files(backup.run)) == named_files | viewer_files(backup.run)
    summary = backup.json(backup.run / "summary.json")
    assert manifest["failures"] == summary["failures"]


def manifest_paths(obj: t.Any) -> t.Iterator[tuple[str, str]]:
    """Every (key, value) of a manifest whose key names a place in the run."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("path", "children") and value is not None:
                yield key, value
            else:
                yield from manifest_paths(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from manifest_paths(value)


def test_every_path_in_the_manifest_exists(backup: Backup) -> None:
    manifest = backup.json(backup.run / "manifest.json")
    found = list(manifest_paths(manifest["docs"])) + list(manifest_paths(manifest["other_streams"]))
    assert any(key == "children" for key, _ in found)  # the workspace has subpages
    for key, rel in found:
        path = backup.run / rel
        assert path.is_dir() if key == "children" else path.exists(), (key, rel)
    for doc in manifest["docs"]:
        for page in doc["pages"]:
            assert page["path"] == next(
                (f["path"] for f in page["files"].values() if f["path"]), None
            )
            if "children" in page:
                kids = [p for p in doc["pages"] if p["parent_id"] == page["id"]]
                assert kids
                for kid in kids:
                    assert kid["path"] is None or kid["path"].startswith(page["children"] + "/")
        for table in doc["tables"]:
            assert table["path"] == (table["files"].get("csv") or {}).get("path")
