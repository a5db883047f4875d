"""The end of a run: staged content becomes the tree of DESIGN.md, what was not sent again
is carried forward from `latest`, and `manifest.json` and `summary.json` say what is where.

Every run takes this same path; there is no "incremental" switch. Decisions per object:

- page file: exported this run → moved into place (`exported`); not sent → carried from
  `latest` by id (`unchanged`; a hard link where possible); export failed this run → the
  earlier copy is kept (`failed`); not sent and no usable earlier copy → a failure of the
  target's own, saying a full run is needed — never silently dropped.
- table CSV by the tap's `table_syncs.mode`: `full` → the staged CSV; `unchanged` → carried;
  `delta` → the earlier CSV merged with the new rows by `_row_id` (changed rows replaced in
  place, new rows appended in arrival order, laid out for today's columns); data that failed
  this run → the earlier CSV is kept (`failed`).
- objects not listed are absent, except where the listing itself failed (a `failures`
  record for the doc, its page listing or its table listing, or for one table): then the
  earlier copies are kept, marked `failed`.
- names follow today's names: a renamed page or table moves; the earlier file is found by id.
"""

from __future__ import annotations

import copy
import functools
import logging
import typing as t
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from target_files import csvfile, fsutil, jsonio, layout
from target_files.snapshot import MANIFEST, SUMMARY, PreviousRun

if t.TYPE_CHECKING:
    from target_files.staging import DocStage, PageStage, Staging, TableStage

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
REPORTED_BY = "target-files"
SYNC_MODES = ("full", "delta", "unchanged")
FULL_RUN_HINT = "run a full backup (coda-backup without --incremental) to get it back"


@dataclass
class _PageNode:
    page_id: str
    name: str | None
    parent_id: str | None
    stage: PageStage | None = None  # listed this run
    prev: dict[str, t.Any] | None = None  # the manifest entry in latest
    folder: tuple[str, ...] = ()
    stem: str = ""


@dataclass
class _TableNode:
    table_id: str
    name: str | None
    table_type: str | None
    page_id: str | None
    page_name: str | None
    stage: TableStage | None = None
    prev: dict[str, t.Any] | None = None
    folder: str = "table"
    stem: str = ""


@dataclass
class _CsvOutcome:
    status: str
    source: str | None = None  # run that wrote the CSV; None: no CSV
    rows: int | None = None
    columns: list[str] | None = None


@dataclass
class _TableJob:
    """One listed table's CSV to put in place."""

    doc_id: str
    node: _TableNode
    stage: TableStage
    prev: dict[str, t.Any]
    columns: list[t.Mapping[str, t.Any]]
    rel: str

    @functools.cached_property
    def column_ids(self) -> list[str]:
        return [str(c.get("id")) for c in self.columns]


@dataclass
class Result:
    manifest: dict[str, t.Any]
    summary: dict[str, t.Any]
    failures: list[dict[str, t.Any]] = field(default_factory=list)


class TreeBuilder:
    """Builds the run's tree inside `root` (the partial folder) from `staging`."""

    def __init__(
        self,
        staging: Staging,
        previous: PreviousRun | None,
        root: Path,
        run_id: str,
        perms: fsutil.Perms,
        *,
        streams_seen: t.Collection[str] = (),
    ) -> None:
        self.staging = staging
        self.prev = previous
        self.root = root
        self.run_id = run_id
        self.perms = perms
        # A stream the tap never announced (deselected in the catalog) is not expected.
        self.expect_pages = "page_contents" in streams_seen
        self.expect_rows = "rows" in streams_seen
        self.own_failures: list[dict[str, t.Any]] = []
        self.counts: Counter[str] = Counter()
        self._index_failures(staging.failures)

    # -- failures ------------------------------------------------------------------

    def _index_failures(self, failures: list[dict[str, t.Any]]) -> None:
        self.failed_docs: set[str] = set()
        self.failed_page_listing: set[str] = set()
        self.failed_table_listing: set[str] = set()
        self.failed_pages: dict[tuple[str, str], set[str | None]] = defaultdict(set)
        self.failed_tables: set[tuple[str, str]] = set()
        self.failed_columns: set[tuple[str, str]] = set()
        for f in failures:
            kind, doc_id, obj_id = f.get("object_type"), str(f.get("doc_id")), f.get("object_id")
            if kind == "doc":
                self.failed_docs.add(str(obj_id or doc_id))
            elif kind == "pages":
                self.failed_page_listing.add(doc_id)
            elif kind == "tables":
                self.failed_table_listing.add(doc_id)
            elif kind in ("page", "page_content") and obj_id:
                fmt = f.get("format") if kind == "page_content" else None
                self.failed_pages[(doc_id, str(obj_id))].add(fmt)
            elif kind in ("table", "columns", "rows") and obj_id:
                self.failed_tables.add((doc_id, str(obj_id)))
                if kind == "columns":
                    self.failed_columns.add((doc_id, str(obj_id)))
        self.failed_page_listing |= self.failed_docs
        self.failed_table_listing |= self.failed_docs

    def _fail(
        self,
        object_type: str,
        doc_id: str | None,
        object_id: str | None,
        name: str | None,
        error: str,
        **context: t.Any,
    ) -> None:
        record = {
            "object_type": object_type,
            "doc_id": doc_id,
            "object_id": object_id,
            "name": name,
            "format": context.pop("format", None),
            "error": error,
            "http_status": None,
            "attempts": None,
            "reported_by": REPORTED_BY,
            **context,
        }
        logger.warning("%s %s: %s", object_type, object_id or doc_id, error)
        self.own_failures.append(record)

    # -- files ---------------------------------------------------------------------

    def _place(self, staged: Path, rel: str) -> None:
        dst = self.root / rel
        fsutil.mkdir(dst.parent, self.perms)
        staged.replace(dst)
        if self.perms.fsync:
            fsutil.fsync_path(dst)

    def _write_json(self, rel: str, obj: object) -> None:
        fsutil.write_text(self.root / rel, jsonio.pretty(obj), self.perms)

    def _carry(self, entry: dict[str, t.Any] | None, rel: str) -> tuple[str | None, str]:
        """Link or copy a file of `latest` to `rel`; (its source run, "") or (None, why)."""
        if self.prev is None:
            return None, "there is no earlier run (latest) to carry it from"
        if not entry or not entry.get("path"):
            return None, f"latest ({self.prev.run_id}) has no copy of it"
        src = self.prev.file(entry["path"])
        if src is None:
            return None, f"its file {entry['path']} is missing in latest ({self.prev.run_id})"
        fsutil.link_or_copy(src, self.root / rel, self.perms)
        self.counts["files_carried"] += 1
        return str(entry.get("source") or self.prev.run_id), ""

    # -- the tree ------------------------------------------------------------------

    def build(self) -> Result:
        docs = [d for d in self.staging.docs.values() if d.record is not None]
        listed_ids = {d.doc_id for d in docs}
        carried = [
            self.prev.docs[doc_id]
            for doc_id in sorted(self.failed_docs - listed_ids)
            if self.prev and doc_id in self.prev.docs
        ]
        names = layout.FolderNames()
        stems: dict[str, str] = {}
        plan = [(layout.stem([(d.record or {}).get("name")], d.doc_id), d.doc_id) for d in docs]
        plan += [(layout.safe(Path(str(e.get("path"))).name), str(e.get("id"))) for e in carried]
        for base, doc_id in sorted(plan, key=lambda p: (layout.fold(p[0]), p[1])):
            stems[doc_id] = names.claim(base)
        self._invalid_records()
        entries = [self._doc(d, stems[d.doc_id]) for d in docs]
        entries += [self._carried_doc(e, stems[str(e.get("id"))]) for e in carried]
        others = self._others()

        failures = [
            {**f, "reported_by": f.get("reported_by", "tap")} for f in self.staging.failures
        ]
        failures += self.own_failures
        c = self.counts
        summary_counts = {
            "docs_found": len(listed_ids | self.failed_docs),
            "docs_processed": len(docs),
            "pages_exported": c["pages_exported"],
            "pages_skipped_unchanged": c["pages_unchanged"],
            "tables_exported": c["tables_exported"],
            "views_exported": c["views_exported"],
            "tables_skipped_unchanged": c["tables_unchanged"],
            "rows_written": c["rows_written"],
            "pages_failed": c["pages_failed"],
            "tables_failed": c["tables_failed"],
            "files_carried": c["files_carried"],
            "other_records": sum(o["records"] for o in others),
        }
        manifest = {
            "format": MANIFEST_FORMAT,
            "run_id": self.run_id,
            "previous_run": self.prev.run_id if self.prev else None,
            "status": "partial" if failures else "complete",
            "docs": entries,
            "other_streams": others,
            "failures": failures,
        }
        return Result(manifest=manifest, summary=summary_counts, failures=failures)

    # -- docs ----------------------------------------------------------------------

    def _doc(self, doc: DocStage, stem: str) -> dict[str, t.Any]:
        record = doc.record or {}
        rel = f"docs/{stem}"
        fsutil.mkdir(self.root / rel, self.perms)
        self._write_json(f"{rel}/doc.json", record)
        self._write_json(f"{rel}/pages.json", self.staging.read_jsonl(doc.pages_path))
        tables = {str(o.get("id")): o for o in self.staging.read_jsonl(doc.tables_path)}
        self._write_json(f"{rel}/tables.json", list(tables.values()))
        return {
            "id": doc.doc_id,
            "name": record.get("name"),
            "updatedAt": record.get("updatedAt"),
            "path": rel,
            "status": "failed" if doc.doc_id in self.failed_docs else "exported",
            "source": self.run_id,
            "pages": self._pages(doc, rel),
            "tables": self._tables(doc, rel, tables),
        }

    def _carried_doc(self, prev_doc: dict[str, t.Any], stem: str) -> dict[str, t.Any]:
        """A doc that failed as a whole this run: its earlier folder, kept as it was."""
        assert self.prev is not None
        old_rel, rel = str(prev_doc.get("path")), f"docs/{stem}"
        files = list(self.prev.walk(old_rel))
        for src, sub in files:
            fsutil.link_or_copy(src, self.root / rel / sub, self.perms)
        self.counts["files_carried"] += len(files)
        if not files:
            self._fail(
                "doc",
                prev_doc.get("id"),
                prev_doc.get("id"),
                prev_doc.get("name"),
                f"failed this run and its folder {old_rel} is missing in latest "
                f"({self.prev.run_id}); {FULL_RUN_HINT}",
            )
        entry = _rebase(copy.deepcopy(prev_doc), old_rel, rel)
        entry["status"] = "failed"
        for obj in [*entry.get("pages", []), *entry.get("tables", [])]:
            obj["status"] = "failed"
        self.counts["pages_failed"] += len(entry.get("pages", []))
        self.counts["tables_failed"] += len(entry.get("tables", []))
        return entry

    # -- pages ---------------------------------------------------------------------

    def _pages(self, doc: DocStage, doc_rel: str) -> list[dict[str, t.Any]]:
        nodes: dict[str, _PageNode] = {}
        for page_id in doc.page_ids:
            stage = self.staging.pages[(doc.doc_id, page_id)]
            nodes[page_id] = _PageNode(page_id, stage.name, stage.parent_id, stage=stage)
        if doc.doc_id in self.failed_page_listing and self.prev:
            for (doc_id, page_id), prev in sorted(self.prev.pages.items()):
                if doc_id == doc.doc_id and page_id not in nodes:
                    nodes[page_id] = _PageNode(
                        page_id, prev.get("name"), prev.get("parent_id"), prev=prev
                    )
        for node in nodes.values():
            if node.stage is not None and self.prev:
                node.prev = self.prev.pages.get((doc.doc_id, node.page_id))
        _place_pages(nodes)
        return [self._page(doc, doc_rel, node) for node in nodes.values()]

    def _page(self, doc: DocStage, doc_rel: str, node: _PageNode) -> dict[str, t.Any]:
        key = (doc.doc_id, node.page_id)
        base = "/".join([doc_rel, "pages", *node.folder, node.stem])
        fresh = node.stage.contents if node.stage else {}
        prev_files: dict[str, t.Any] = (node.prev or {}).get("files") or {}
        failed = self.failed_pages.get(key, set())
        unlisted = node.stage is None
        formats = list(dict.fromkeys([*fresh, *prev_files, *(f for f in failed if f)]))
        files: dict[str, dict[str, t.Any]] = {}
        for fmt in formats:
            rel = base + layout.page_ext(fmt)
            if fmt in fresh:
                self._place(fresh[fmt].path, rel)
                files[fmt] = {"path": rel, "status": "exported", "source": self.run_id}
                continue
            is_failed = unlisted or fmt in failed or None in failed
            source, why = self._carry(prev_files.get(fmt), rel)
            if source:
                status = "failed" if is_failed else "unchanged"
                files[fmt] = {"path": rel, "status": status, "source": source}
                continue
            if not is_failed:
                self._fail(
                    "page_content",
                    doc.doc_id,
                    node.page_id,
                    node.name,
                    f"not sent again (unchanged) but {why}; {FULL_RUN_HINT}",
                    format=fmt,
                    path=rel,
                )
            files[fmt] = {"path": None, "status": "failed", "source": None}
        lost = not files and self.expect_pages and not failed and not unlisted
        if lost:
            self._fail(
                "page_content",
                doc.doc_id,
                node.page_id,
                node.name,
                "no export received for this page and latest has none: the tap skipped "
                f"it as unchanged; {FULL_RUN_HINT}",
                path=base,
            )
        statuses = {f["status"] for f in files.values()}
        if unlisted or lost or failed or "failed" in statuses:
            status = "failed"
        elif "exported" in statuses or not statuses:
            status = "exported"
        else:
            status = "unchanged"
        self.counts[f"pages_{status}"] += 1
        stage = node.stage
        return {
            "id": node.page_id,
            "name": node.name,
            "updatedAt": stage.updated_at if stage else (node.prev or {}).get("updatedAt"),
            "parent_id": node.parent_id,
            "path": base,
            "status": status,
            "files": files,
        }

    # -- tables --------------------------------------------------------------------

    def _tables(
        self, doc: DocStage, doc_rel: str, objects: dict[str, dict[str, t.Any]]
    ) -> list[dict[str, t.Any]]:
        nodes: dict[str, _TableNode] = {}
        for table_id in doc.table_ids:
            st = self.staging.tables[(doc.doc_id, table_id)]
            nodes[table_id] = _TableNode(
                table_id, st.name, st.table_type, st.page_id, st.page_name, stage=st
            )
        if self.prev:
            for (doc_id, table_id), prev in sorted(self.prev.tables.items()):
                if doc_id != doc.doc_id or table_id in nodes:
                    continue
                if doc_id in self.failed_table_listing or (doc_id, table_id) in self.failed_tables:
                    page = prev.get("page") or {}
                    nodes[table_id] = _TableNode(
                        table_id,
                        prev.get("name"),
                        prev.get("tableType"),
                        page.get("id"),
                        page.get("name"),
                        prev=prev,
                    )
            for node in nodes.values():
                if node.stage is not None:
                    node.prev = self.prev.tables.get((doc.doc_id, node.table_id))
        folders: dict[str, layout.FolderNames] = defaultdict(layout.FolderNames)
        plan = []
        for node in nodes.values():
            node.folder = layout.table_folder(node.table_type)
            names = [node.page_name, node.name] if node.page_name is not None else [node.name]
            plan.append((layout.stem(names, node.table_id), node))
        for base, node in sorted(plan, key=lambda p: (layout.fold(p[0]), p[1].table_id)):
            node.stem = folders[node.folder].claim(base, layout.TABLE_EXTS)
        return [
            self._table(doc, doc_rel, node, objects.get(node.table_id)) for node in nodes.values()
        ]

    def _table(
        self, doc: DocStage, doc_rel: str, node: _TableNode, obj: dict[str, t.Any] | None
    ) -> dict[str, t.Any]:
        base = f"{doc_rel}/tables/{node.folder}/{node.stem}"
        st, prev = node.stage, node.prev or {}
        prev_files: dict[str, t.Any] = prev.get("files") or {}
        files: dict[str, dict[str, t.Any]] = {}
        entry: dict[str, t.Any] = {
            "id": node.table_id,
            "name": node.name,
            "tableType": node.table_type,
            "page": {"id": node.page_id, "name": node.page_name},
            "updatedAt": st.updated_at if st else prev.get("updatedAt"),
            "rowCount": st.row_count if st else prev.get("rowCount"),
            "path": base,
        }
        # Not listed this run because its listing failed, or its columns could not be
        # listed (its rows cannot be laid out: an empty columns.json and a CSV without
        # the values would pass for the table): keep latest's copy, if any.
        if st is None or (doc.doc_id, node.table_id) in self.failed_columns:
            for kind, ext in zip(("csv", "columns", "table"), layout.TABLE_EXTS, strict=True):
                source, _ = self._carry(prev_files.get(kind), base + ext)
                if source:
                    files[kind] = {"path": base + ext, "source": source}
            entry.update(
                syncMode=None,
                status="failed",
                csvRows=prev.get("csvRows"),
                csvColumns=prev.get("csvColumns"),
                files=files,
            )
            self.counts["tables_failed"] += 1
            return entry

        columns = csvfile.ordered_columns(self.staging.read_jsonl(st.columns_path))
        self._write_json(base + ".table.json", obj or {})
        self._write_json(base + ".columns.json", columns)
        files["columns"] = {"path": base + ".columns.json", "source": self.run_id}
        files["table"] = {"path": base + ".table.json", "source": self.run_id}
        mode = str((st.sync or {}).get("mode") or "full")
        job = _TableJob(doc.doc_id, node, st, prev, columns, base + ".csv")
        csv = self._csv(job, mode)
        if csv.source is not None:
            files["csv"] = {"path": job.rel, "source": csv.source}
        entry.update(
            syncMode=mode, status=csv.status, csvRows=csv.rows, csvColumns=csv.columns, files=files
        )
        if st.late_columns or st.unknown_ids:
            missing = sorted(set(st.late_columns) | st.unknown_ids)
            self._table_failure(
                job,
                f"row values of columns {missing} are not in the CSV (columns arrived after "
                f"rows, or rows named unknown columns); {FULL_RUN_HINT}",
                "rows",
            )
            entry["status"] = "failed"
        final = entry["status"]
        if final == "exported":
            self.counts["views_exported" if node.folder == "view" else "tables_exported"] += 1
        else:
            self.counts["tables_unchanged" if final == "unchanged" else "tables_failed"] += 1
        return entry

    def _table_failure(self, job: _TableJob, error: str, object_type: str = "table") -> None:
        node = job.node
        self._fail(object_type, job.doc_id, node.table_id, node.name, error, path=job.rel)

    def _csv(self, job: _TableJob, mode: str) -> _CsvOutcome:  # noqa: PLR0911 (one per case)
        """Put the table's CSV in place as the tap's sync mode says."""
        st, prev = job.stage, job.prev
        prev_csv = (prev.get("files") or {}).get("csv")
        if not self.expect_rows:  # rows deselected: metadata only
            return _CsvOutcome("exported")
        failed = (job.doc_id, job.node.table_id) in self.failed_tables
        if failed or mode not in SYNC_MODES:
            if not failed:
                self._table_failure(job, f"unknown table_syncs mode {mode!r}", "rows")
            source, _ = self._carry(prev_csv, job.rel)
            if source:  # the earlier complete copy beats a partial one
                return _CsvOutcome("failed", source, prev.get("csvRows"), prev.get("csvColumns"))
            if st.csv_started:  # what did arrive is better than nothing
                self._place(st.csv_path, job.rel)
                self.counts["rows_written"] += st.rows
                return _CsvOutcome("failed", self.run_id, st.rows, st.column_ids)
            return _CsvOutcome("failed")
        if mode == "unchanged":
            source, why = self._carry(prev_csv, job.rel)
            if source:
                return _CsvOutcome("unchanged", source, prev.get("csvRows"), prev.get("csvColumns"))
            self._table_failure(job, f"rows not sent again (unchanged) but {why}; {FULL_RUN_HINT}")
            return _CsvOutcome("failed")
        if mode == "delta":
            merged = self._merge(job)
            if merged is None:
                return _CsvOutcome("failed")
            return _CsvOutcome("exported", self.run_id, merged, job.column_ids)
        if st.csv_started and st.column_ids == job.column_ids:
            self._place(st.csv_path, job.rel)
        else:  # an empty table still gets its header; late columns are laid out anew
            self._write_csv(job, self._staged_rows(job))
        self.counts["rows_written"] += st.rows
        return _CsvOutcome("exported", self.run_id, st.rows, job.column_ids)

    def _staged_rows(self, job: _TableJob) -> t.Iterator[list[str]]:
        """The rows that arrived this run, laid out for today's columns."""
        st = job.stage
        if not st.csv_started:
            return
        with st.csv_path.open(encoding=fsutil.ENCODING, newline="") as fin:
            rows = csvfile.reader(fin)
            next(rows, None)
            for cells in rows:
                yield csvfile.remap(cells, st.column_ids or [], job.column_ids)

    def _write_csv(self, job: _TableJob, rows: t.Iterable[t.Sequence[str]]) -> int:
        fsutil.mkdir((self.root / job.rel).parent, self.perms)
        out = fsutil.open_text(self.root / job.rel, self.perms)
        try:
            w = csvfile.writer(out)
            w.writerow(csvfile.header(job.columns))
            count = 0
            for cells in rows:
                w.writerow(cells)
                count += 1
        finally:
            fsutil.finish(out, self.perms)
        return count

    def _merge(self, job: _TableJob) -> int | None:
        """latest's CSV with the delta's rows: replaced in place by `_row_id`, new ones
        appended in arrival order. Holds the delta's rows (not the table's) in memory."""
        prev_csv = (job.prev.get("files") or {}).get("csv") or {}
        src = self.prev.file(prev_csv.get("path")) if self.prev else None
        old_ids = job.prev.get("csvColumns")
        if src is None or not isinstance(old_ids, list):
            why = (
                "latest has no copy of it"
                if self.prev is None or not job.prev
                else f"its CSV is missing in latest ({self.prev.run_id})"
            )
            self._table_failure(
                job, f"only changed rows were sent (delta) but {why}; {FULL_RUN_HINT}"
            )
            return None
        delta = {cells[0]: cells for cells in self._staged_rows(job)}
        with src.open(encoding=fsutil.ENCODING, newline="") as fin:
            old_rows = csvfile.reader(fin)
            if len(next(old_rows, [])) != len(csvfile.ROW_FIELDS) + len(old_ids):
                self._table_failure(
                    job, f"the CSV in latest ({src}) does not match its manifest; {FULL_RUN_HINT}"
                )
                return None

            def merged() -> t.Iterator[t.Sequence[str]]:
                for cells in old_rows:
                    new = delta.pop(cells[0], None) if cells else None
                    yield new if new is not None else csvfile.remap(cells, old_ids, job.column_ids)
                yield from delta.values()

            count = self._write_csv(job, merged())
        self.counts["rows_written"] += job.stage.rows
        return count

    def _invalid_records(self) -> None:
        for stream, count in self.staging.invalid_counts.items():
            for bad in self.staging.invalid.get(stream, []):
                self._fail(
                    "record",
                    bad["doc_id"],
                    bad["object_id"],
                    bad["name"],
                    f"`{stream}` record does not match its schema ({bad['error']}); "
                    "kept as received",
                    stream=stream,
                )
            if count > len(self.staging.invalid.get(stream, [])):
                more = count - len(self.staging.invalid.get(stream, []))
                self._fail(
                    "record",
                    None,
                    None,
                    None,
                    f"{more} more `{stream}` records do not match its schema; kept as received",
                    stream=stream,
                )

    # -- other streams -------------------------------------------------------------

    def _others(self) -> list[dict[str, t.Any]]:
        names = layout.FolderNames()
        plan = sorted(
            ((layout.stem([s], None, ".jsonl"), s) for s in self.staging.others),
            key=lambda p: (layout.fold(p[0]), p[1]),
        )
        out = []
        for base, stream in plan:
            stage = self.staging.others[stream]
            rel = f"other/{names.claim(base, ['.jsonl'])}.jsonl"
            self._place(stage.path, rel)
            out.append({"stream": stream, "path": rel, "records": stage.records})
        return out


def _place_pages(nodes: dict[str, _PageNode]) -> None:
    """Give each page its folder (its ancestors' stems) and its stem; deterministic."""
    children: dict[str | None, list[_PageNode]] = defaultdict(list)
    for node in nodes.values():
        parent = node.parent_id if node.parent_id in nodes else None
        children[parent].append(node)
    exts = [layout.page_ext(f) for f in ("markdown", "html")]
    folders: dict[tuple[str, ...], layout.FolderNames] = defaultdict(layout.FolderNames)
    placed: set[str] = set()
    queue: list[tuple[str | None, tuple[str, ...]]] = [(None, ())]
    while True:
        while queue:
            parent, folder = queue.pop()
            kids = [k for k in children.get(parent, []) if k.page_id not in placed]
            plan = [(layout.stem([k.name], k.page_id, ".html"), k) for k in kids]
            for base, kid in sorted(plan, key=lambda p: (layout.fold(p[0]), p[1].page_id)):
                kid.folder = folder
                kid.stem = folders[folder].claim(base, exts)
                placed.add(kid.page_id)
                queue.append((kid.page_id, (*folder, kid.stem)))
        # Pages in a parent cycle are unreachable from the top: put them at the top.
        rest = [n for n in nodes.values() if n.page_id not in placed]
        if not rest:
            return
        children[None].append(min(rest, key=lambda n: n.page_id))
        queue.append((None, ()))


def _rebase(obj: t.Any, old: str, new: str) -> t.Any:
    """Rewrite manifest paths under folder `old` to folder `new`."""
    if isinstance(obj, dict):
        return {k: _rebase(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rebase(v, old, new) for v in obj]
    if isinstance(obj, str) and (obj == old or obj.startswith(old + "/")):
        return new + obj[len(old) :]
    return obj


def write_outputs(
    root: Path,
    result: Result,
    *,
    run_id: str,
    started_at: str,
    finished_at: str,
    perms: fsutil.Perms,
) -> None:
    """manifest.json and summary.json, last files of the run."""
    manifest = {
        "format": result.manifest["format"],
        "run_id": run_id,
        "created_at": finished_at,
        **{k: v for k, v in result.manifest.items() if k not in ("format", "run_id")},
    }
    summary = {
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": finished_at,
        "status": "partial" if result.failures else "complete",
        **result.summary,
        "previous_run": result.manifest.get("previous_run"),
        "other_streams": {o["stream"]: o["records"] for o in result.manifest["other_streams"]},
        "failures": result.failures,
    }
    fsutil.write_text(root / MANIFEST, jsonio.pretty(manifest), perms)
    fsutil.write_text(root / SUMMARY, jsonio.pretty(summary), perms)
