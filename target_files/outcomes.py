"""What happens to each object of a run, decided as values (no I/O here).

The tree is built in two steps per object: a pure decision (which file to take from
where, what status follows) and its execution (`pages`, `tables`). The results are
outcome values; `report` derives every summary count from them at the end.
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass, field

REPORTED_BY = "target-files"
SYNC_MODES = ("full", "delta", "unchanged")
FULL_RUN_HINT = "run a full backup (coda-backup without --incremental) to get it back"
#: A damaged copy in latest is not carried and its bookmark is dropped (`bookmarks`).
REFETCH_HINT = "not carried; its bookmark is dropped, so the next run fetches it again"

Record = dict[str, t.Any]


# -- the tap's failures, indexed -------------------------------------------------------


@dataclass
class FailureIndex:
    """Which objects the tap could not back up this run (from its `failures` records)."""

    docs: set[str] = field(default_factory=set)
    page_listing: set[str] = field(default_factory=set)  # doc ids
    table_listing: set[str] = field(default_factory=set)  # doc ids
    #: (doc, page) → formats that failed; None: the page as a whole
    pages: dict[tuple[str, str], set[str | None]] = field(default_factory=dict)
    tables: set[tuple[str, str]] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)
    #: objects whose every record is a skip (Coda cannot give them, by design)
    skipped_docs: set[str] = field(default_factory=set)
    skipped_pages: set[tuple[str, str]] = field(default_factory=set)
    skipped_tables: set[tuple[str, str]] = field(default_factory=set)


def is_skip(record: t.Mapping[str, t.Any]) -> bool:
    """A `failures` record with `kind: skip`: not a failure of the run (absent kind, or
    `failure`, is one; so is any kind this target does not know)."""
    return record.get("kind") == "skip"


def is_warning(record: t.Mapping[str, t.Any]) -> bool:
    """A `failures` record with `kind: warning`: the object is backed up, with a remark
    (an export kept as served because it is not UTF-8). Neither a failure nor a skip."""
    return record.get("kind") == "warning"


def index_failures(failures: t.Iterable[t.Mapping[str, t.Any]]) -> FailureIndex:
    """Failures and skips both mean "not backed up this run": earlier copies are kept.
    An object is `skipped` only when nothing but skips names it."""
    index = FailureIndex()
    records = [f for f in failures if not is_warning(f)]
    for f in records:
        _index_one(index, f)
    failed = FailureIndex()
    for f in records:
        if not is_skip(f):
            _index_one(failed, f)
    skips = FailureIndex()
    for f in records:
        if is_skip(f):
            _index_one(skips, f)
    index.skipped_docs = skips.docs - failed.docs
    index.skipped_pages = set(skips.pages) - set(failed.pages)
    index.skipped_tables = skips.tables - failed.tables
    return index


def _index_one(index: FailureIndex, f: t.Mapping[str, t.Any]) -> None:
    kind, doc_id, obj_id = f.get("object_type"), str(f.get("doc_id")), f.get("object_id")
    if kind == "doc":
        index.docs.add(str(obj_id or doc_id))
        index.page_listing.add(str(obj_id or doc_id))
        index.table_listing.add(str(obj_id or doc_id))
    elif kind == "pages":
        index.page_listing.add(doc_id)
    elif kind == "tables":
        index.table_listing.add(doc_id)
    elif kind in ("page", "page_content") and obj_id:
        fmt = f.get("format") if kind == "page_content" else None
        index.pages.setdefault((doc_id, str(obj_id)), set()).add(fmt)
    elif kind in ("table", "columns", "rows") and obj_id:
        index.tables.add((doc_id, str(obj_id)))
        if kind == "columns":
            index.columns.add((doc_id, str(obj_id)))


def damaged(
    object_type: str,
    doc_id: str,
    object_id: str | None,
    name: str | None,
    *,
    path: str | None,
    reason: str,
) -> Record:
    """A file of latest that failed the carry check (`summary.json` `damaged_carried`)."""
    return {
        "object_type": object_type,
        "doc_id": doc_id,
        "object_id": object_id,
        "name": name,
        "path": path,
        "reason": reason,
    }


def hint(damage: str | None) -> str:
    return REFETCH_HINT if damage else FULL_RUN_HINT


def failure(
    object_type: str,
    doc_id: str | None,
    object_id: str | None,
    name: str | None,
    error: str,
    **context: t.Any,
) -> Record:
    """A failure found by the target itself; the fields of docs/RECORDS.md, then context."""
    return {
        "kind": "failure",
        "reason": None,
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


# -- pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileOutcome:
    """One page format's file: where it is, how it got there, which run wrote it."""

    path: str | None
    status: str  # exported / unchanged / failed
    source: str | None

    def entry(self) -> Record:
        return {"path": self.path, "status": self.status, "source": self.source}


def first_path(files: t.Iterable[FileOutcome]) -> str | None:
    """A page's own `path`: the file of its first format that has one."""
    return next((f.path for f in files if f.path), None)


def page_formats(
    fresh: t.Iterable[str], previous: t.Iterable[str], failed: t.Iterable[str | None]
) -> list[str]:
    """Every format the page has a file (or a failure) for, fresh ones first."""
    return list(dict.fromkeys([*fresh, *previous, *(f for f in failed if f)]))


def format_failed(fmt: str, failed: t.Collection[str | None], *, unlisted: bool) -> bool:
    """The format could not be exported this run (or its page was not even listed)."""
    return unlisted or fmt in failed or None in failed


def carried_file(rel: str, source: str | None, *, failed: bool) -> FileOutcome:
    """A format not exported this run: latest's copy if it could be carried."""
    if source:
        return FileOutcome(rel, "failed" if failed else "unchanged", source)
    return FileOutcome(None, "failed", None)


def page_lost(*, has_files: bool, expect_pages: bool, failed: bool, unlisted: bool) -> bool:
    """A listed page with no file at all and no failure to explain it: the tap skipped
    it as unchanged, but there is nothing to carry."""
    return not has_files and expect_pages and not failed and not unlisted


def skipped(status: str, *, skip: bool, own_failures: bool) -> str:
    """`skipped` for an object that is not backed up only because Coda cannot give it
    (every tap record about it is a skip, and the target found nothing wrong with it)."""
    return "skipped" if status == "failed" and skip and not own_failures else status


def page_status(file_statuses: t.Collection[str], *, failed: bool) -> str:
    if failed or "failed" in file_statuses:
        return "failed"
    if "exported" in file_statuses or not file_statuses:
        return "exported"
    return "unchanged"


@dataclass
class PageOutcome:
    entry: Record
    failures: list[Record] = field(default_factory=list)
    carried: int = 0
    damaged: list[Record] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.entry["status"])


# -- tables ----------------------------------------------------------------------------


class CsvPlan(enum.Enum):
    """Where a listed table's CSV comes from."""

    METADATA_ONLY = "metadata_only"  # the rows stream was deselected
    KEEP = "keep"  # rows failed (or an unknown mode): latest's copy, else what arrived
    CARRY = "carry"  # unchanged: latest's copy
    MERGE = "merge"  # delta: latest's CSV merged with the changed rows
    STAGED = "staged"  # full: what arrived


def csv_plan(mode: str, *, expect_rows: bool, failed: bool) -> CsvPlan:
    if not expect_rows:
        return CsvPlan.METADATA_ONLY
    if failed or mode not in SYNC_MODES:
        return CsvPlan.KEEP
    return {"unchanged": CsvPlan.CARRY, "delta": CsvPlan.MERGE}.get(mode, CsvPlan.STAGED)


@dataclass
class CsvOutcome:
    status: str
    source: str | None = None  # run that wrote the CSV; None: no CSV
    rows: int | None = None
    columns: list[str] | None = None
    rows_written: int = 0
    carried: int = 0
    failures: list[Record] = field(default_factory=list)
    damaged: list[Record] = field(default_factory=list)


def missing_values(late_columns: t.Iterable[str], unknown_ids: t.Iterable[str]) -> list[str]:
    """Columns whose values the CSV lacks (they came after rows, or rows named them)."""
    return sorted(set(late_columns) | set(unknown_ids))


def table_status(csv_status: str, missing: t.Collection[str]) -> str:
    return "failed" if missing else csv_status


@dataclass
class TableOutcome:
    entry: Record
    kind: str  # the tree folder: table / view
    rows_written: int = 0
    failures: list[Record] = field(default_factory=list)
    carried: int = 0
    damaged: list[Record] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.entry["status"])


# -- docs and the run ------------------------------------------------------------------


@dataclass
class DocOutcome:
    entry: Record
    pages: list[PageOutcome] = field(default_factory=list)
    tables: list[TableOutcome] = field(default_factory=list)
    carried: int = 0  # files of a doc kept as a whole
    failures: list[Record] = field(default_factory=list)
    listed: bool = True  # False: failed as a whole, kept from latest
    damaged: list[Record] = field(default_factory=list)


def _in_tree_order(docs: t.Iterable[DocOutcome], kind: str) -> list[Record]:
    """The `kind` records (`damaged` or `failures`) of every doc, page and table."""
    out: list[Record] = []
    for doc in docs:
        out += getattr(doc, kind)
        for page in doc.pages:
            out += getattr(page, kind)
        for table in doc.tables:
            out += getattr(table, kind)
    return out


def damaged_carried(docs: t.Iterable[DocOutcome]) -> list[Record]:
    """Files of latest that failed the carry check, in tree order."""
    return _in_tree_order(docs, "damaged")


def own_failures(docs: t.Iterable[DocOutcome]) -> list[Record]:
    """The target's own failures, in tree order."""
    return _in_tree_order(docs, "failures")


def summary_counts(
    docs: t.Sequence[DocOutcome], *, docs_found: int, other_records: int
) -> dict[str, int]:
    """Every count of `summary.json`, from the outcomes."""
    pages = [p.status for d in docs for p in d.pages]
    tables = [(x.status, x.kind) for d in docs for x in d.tables]
    carried = sum(
        d.carried + sum(p.carried for p in d.pages) + sum(x.carried for x in d.tables) for d in docs
    )
    return {
        "docs_found": docs_found,
        "docs_processed": sum(d.listed for d in docs),
        "pages_exported": pages.count("exported"),
        "pages_skipped_unchanged": pages.count("unchanged"),
        "tables_exported": sum(s == "exported" and k != "view" for s, k in tables),
        "views_exported": tables.count(("exported", "view")),
        "tables_skipped_unchanged": sum(s == "unchanged" for s, _ in tables),
        "rows_written": sum(x.rows_written for d in docs for x in d.tables),
        "pages_failed": pages.count("failed"),
        "tables_failed": sum(s == "failed" for s, _ in tables),
        "files_carried": carried,
        "other_records": other_records,
    }
