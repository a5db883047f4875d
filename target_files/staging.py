"""What arrived so far, staged by id inside the partial run folder.

singer-sdk sends a parent's children before the parent (a table's columns and rows before its
`tables` record, everything of a doc before its `docs` record), so nothing can be named while
records stream in. This module keeps content on disk under `.staging/`, keyed by arrival
number, and remembers only small facts per object in memory:

- rows stream straight into one CSV per table (`tablerows`; with `rows_json` into a JSON
  Lines file too); rows that come before their table's columns are spooled, then written;
- page exports go to one file each; page, table and column objects are appended to
  JSON Lines files per doc or table; `failures` records are kept (they are few);
- records of streams that are not tap-coda's go to one JSON Lines file per stream.

`assemble.build()` turns this into the final tree once the input has ended.
"""

from __future__ import annotations

import contextlib
import logging
import typing as t
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path

from target_files import csvfile, fsutil, jsonio, layout
from target_files.assets import AssetStage
from target_files.doclogic import LogicStage
from target_files.pageparts import PageParts, PartsError, parts_failure
from target_files.records import InvalidRecords, api_object, read_jsonl, refuse_dry_run, require
from target_files.tablerows import TableRows, TableStage

__all__ = ["Staging", "TableStage", "api_object", "problems", "read_jsonl", "require"]

if t.TYPE_CHECKING:
    from target_files.digest import Digest

logger = logging.getLogger(__name__)


@dataclass
class ContentStage:
    """One exported page file."""

    path: Path
    page_updated_at: t.Any


@dataclass
class PageStage:
    doc_id: str
    page_id: str
    listed: bool = False
    name: str | None = None
    parent_id: str | None = None
    updated_at: t.Any = None
    contents: dict[str, ContentStage] = field(default_factory=dict)


@dataclass
class DocStage:
    doc_id: str
    seq: int
    pages_path: Path
    tables_path: Path
    record: dict[str, t.Any] | None = None
    page_ids: list[str] = field(default_factory=list)
    table_ids: list[str] = field(default_factory=list)


@dataclass
class OtherStage:
    stream: str
    path: Path
    records: int = 0


class Staging:
    """Everything received, by id; files under `root` (`<partial run>/.staging`)."""

    def __init__(self, root: Path, perms: fsutil.Perms, *, rows_json: bool = False) -> None:
        self.root = root
        self.rows_json = rows_json
        self.perms = perms
        for sub in ("tables", "pages", "docs", "other"):
            fsutil.mkdir(root / sub, perms)
        self._files = fsutil.OpenFiles(perms, csvfile.writer)
        self._seq = 0
        self.docs: dict[str, DocStage] = {}
        self.pages: dict[tuple[str, str], PageStage] = {}
        self.tables: dict[tuple[str, str], TableStage] = {}
        self.others: dict[str, OtherStage] = {}
        self.failures: list[dict[str, t.Any]] = []
        self.invalid = InvalidRecords()
        self._rows = TableRows(self._files, self.invalid)  # each table's CSV and columns
        #: formulas, controls, permissions, sharing, folders (target_files.doclogic)
        self.logic = LogicStage(root / "logic", perms, self._files)
        self.assets = AssetStage(root / "assets", perms)  # target_files.assets
        self.parts = PageParts(perms)  # large exports' parts (target_files.pageparts)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # -- objects by id -------------------------------------------------------------

    def doc(self, doc_id: str) -> DocStage:
        doc = self.docs.get(doc_id)
        if doc is None:
            seq = self._next()
            doc = DocStage(
                doc_id,
                seq,
                pages_path=self.root / "docs" / f"{seq}.pages.jsonl",
                tables_path=self.root / "docs" / f"{seq}.tables.jsonl",
            )
            self.docs[doc_id] = doc
        return doc

    def page(self, doc_id: str, page_id: str) -> PageStage:
        key = (doc_id, page_id)
        if key not in self.pages:
            self.pages[key] = PageStage(doc_id, page_id)
        return self.pages[key]

    def table(self, doc_id: str, table_id: str) -> TableStage:
        key = (doc_id, table_id)
        table = self.tables.get(key)
        if table is None:
            seq = self._next()
            base = self.root / "tables" / str(seq)
            table = TableStage(
                doc_id,
                table_id,
                seq,
                csv_path=base.with_suffix(".csv"),
                columns_path=base.with_suffix(".columns.jsonl"),
                early_path=base.with_suffix(".early.jsonl"),
                json_path=base.with_suffix(".rows.jsonl") if self.rows_json else None,
            )
            self.tables[key] = table
        return table

    def _append_line(self, path: Path, text: str) -> None:
        handle, _ = self._files.get(path)
        handle.write(text + "\n")

    # -- records -------------------------------------------------------------------

    def add_doc(self, record: dict[str, t.Any]) -> None:
        require(record, "docs", "id")
        self.doc(str(record["id"])).record = dict(record)

    def add_page(self, record: dict[str, t.Any]) -> None:
        require(record, "pages", "doc_id", "id")
        doc = self.doc(str(record["doc_id"]))
        page = self.page(doc.doc_id, str(record["id"]))
        if not page.listed:
            doc.page_ids.append(page.page_id)
        page.listed = True
        page.name = record.get("name")
        parent = record.get("parent")
        page.parent_id = (
            str(parent["id"]) if isinstance(parent, dict) and parent.get("id") else None
        )
        page.updated_at = record.get("updatedAt")
        self._append_line(doc.pages_path, jsonio.compact(api_object(record)))

    def add_page_content(self, record: dict[str, t.Any]) -> None:
        require(record, "page_contents", "doc_id", "page_id", "format")
        refuse_dry_run(record)
        page = self.page(str(record["doc_id"]), str(record["page_id"]))
        fmt = str(record["format"])
        old = page.contents.get(fmt)
        if record.get("parts") is not None:  # a large export: its parts came first
            try:
                path, digest = self.parts.take((page.doc_id, page.page_id, fmt), record["parts"])
            except PartsError as exc:
                self.add_failure(parts_failure(record, str(exc)))
                return
            self._files.digests[path] = digest
        else:
            path = self._page_path(fmt)
            served = record.get("content_base64")  # an export that is not UTF-8, as it came
            content = record.get("content")
            data = b64decode(served) if served else ("" if content is None else str(content))
            self._files.digests[path] = fsutil.write_text(path, data, self.perms)
        page.contents[fmt] = ContentStage(path, record.get("page_updatedAt"))
        if old:  # sent twice: the later export wins
            old.path.unlink(missing_ok=True)

    def add_page_part(self, record: dict[str, t.Any]) -> None:
        self.parts.add(record, self._page_path)

    def _page_path(self, fmt: str) -> Path:
        return self.root / "pages" / f"{self._next()}{layout.page_ext(fmt)}"

    def add_table(self, record: dict[str, t.Any]) -> None:
        require(record, "tables", "doc_id", "id")
        doc = self.doc(str(record["doc_id"]))
        table = self.table(doc.doc_id, str(record["id"]))
        if not table.listed:
            doc.table_ids.append(table.table_id)
        table.listed = True
        table.name = record.get("name")
        table.table_type = record.get("tableType")
        parent = record.get("parent")
        if isinstance(parent, dict):
            table.page_id = parent.get("id")
            table.page_name = parent.get("name")
        table.updated_at = record.get("updatedAt")
        table.row_count = record.get("rowCount")
        self._append_line(doc.tables_path, jsonio.compact(api_object(record)))
        self._rows.close(table)  # the `tables` record closes the table

    def add_column(self, record: dict[str, t.Any]) -> None:
        require(record, "columns", "doc_id", "table_id", "id")
        table = self.table(str(record["doc_id"]), str(record["table_id"]))
        self._rows.add_column(table, record)

    def add_row(self, record: dict[str, t.Any]) -> None:
        require(record, "rows", "doc_id", "table_id", "id")
        self._rows.add_row(self.table(str(record["doc_id"]), str(record["table_id"])), record)

    def add_table_sync(self, record: dict[str, t.Any]) -> None:
        require(record, "table_syncs", "doc_id", "table_id")
        refuse_dry_run(record)
        table = self.table(str(record["doc_id"]), str(record["table_id"]))
        table.seen_data = True
        table.sync = dict(record)

    def add_failure(self, record: dict[str, t.Any]) -> None:
        self.failures.append(dict(record))

    def add_other(self, stream: str, record: dict[str, t.Any]) -> None:
        other = self.others.get(stream)
        if other is None:
            other = OtherStage(stream, self.root / "other" / f"{self._next()}.jsonl")
            self.others[stream] = other
        self._append_line(other.path, jsonio.compact(record))
        other.records += 1

    # -- end of input --------------------------------------------------------------

    def close(self) -> None:
        """Close every file; write out rows still waiting for columns that never came."""
        for table in self.tables.values():
            self._rows.finish(table)
        self._files.close_all()

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self._files.close_all()

    def digest(self, path: Path) -> Digest | None:
        """The digest of a staged file, taken as it was written."""
        return self._files.digests.get(path)


def problems(staging: Staging) -> list[str]:
    """Signs that the input stopped early: children whose parent record never came."""
    out = [
        f"rows/columns of table {t.table_id} (doc {t.doc_id}) but no `tables` record"
        for t in staging.tables.values()
        if t.seen_data and not t.listed
    ]
    out += [
        f"exported page {p.page_id} (doc {p.doc_id}) but no `pages` record"
        for p in staging.pages.values()
        if p.contents and not p.listed
    ]
    out += [
        f"pages/tables of doc {d.doc_id} but no `docs` record"
        for d in staging.docs.values()
        if d.record is None and (d.page_ids or d.table_ids)
    ]
    return out
