"""The end of a run: staged content becomes the tree of DESIGN.md, and what was not sent
again is carried forward from `latest`.

Every run takes this same path; there is no "incremental" switch. The parts, as restic
splits a backup: `previous` (what latest holds, carry, delta merge), `outcomes` (pure
decisions and the values they return), `layout` (the naming plan), `pages` and `tables`
(each object put in place), `tree` (the only writer into the run folder) and `report`
(`manifest.json` and `summary.json`, derived from the outcomes).

Objects not listed are absent, except where the listing itself failed (a `failures`
record for the doc, its page listing or its table listing, or for one table): then the
earlier copies are kept, marked `failed`. Names follow today's names: a renamed page or
table moves; the earlier file is found by id.
"""

from __future__ import annotations

import copy
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from target_files import assets, doclogic, layout, outcomes
from target_files import staging as staging_files
from target_files.outcomes import FULL_RUN_HINT, DocOutcome, PageOutcome, TableOutcome
from target_files.pages import doc_pages
from target_files.tables import doc_tables

if t.TYPE_CHECKING:
    from target_files.staging import DocStage, Staging
    from target_files.tree import Tree


@dataclass
class Assembly:
    """What the tree holds once built: the outcomes `report` describes."""

    docs: list[DocOutcome]
    others: list[dict[str, t.Any]]
    tap_failures: list[dict[str, t.Any]]
    own_failures: list[dict[str, t.Any]] = field(default_factory=list)
    skips: list[dict[str, t.Any]] = field(default_factory=list)
    warnings: list[dict[str, t.Any]] = field(default_factory=list)
    docs_found: int = 0

    @property
    def failures(self) -> list[dict[str, t.Any]]:
        return [*self.tap_failures, *self.own_failures]


def build(tree: Tree) -> Assembly:
    """Build the run's tree inside `tree.root` from `tree.staging`."""
    staging, prev = tree.staging, tree.prev
    docs = [d for d in staging.docs.values() if d.record is not None]
    listed_ids = {d.doc_id for d in docs}
    carried = [
        prev.docs[doc_id]
        for doc_id in sorted(tree.failed.docs - listed_ids)
        if prev and doc_id in prev.docs
    ]
    plan = [(layout.stem([(d.record or {}).get("name")], d.doc_id), d.doc_id) for d in docs]
    plan += [(layout.safe(Path(str(e.get("path"))).name), str(e.get("id"))) for e in carried]
    stems = layout.claim_sorted(plan)
    invalid = invalid_record_failures(staging)
    doclogic.write_folders(tree)
    outs = [_doc(tree, d, stems[d.doc_id]) for d in docs]
    outs += [_carried_doc(tree, e, stems[str(e.get("id"))]) for e in carried]
    tap_records = [{**f, "reported_by": f.get("reported_by", "tap")} for f in staging.failures]
    return Assembly(
        docs=outs,
        others=_others(tree),
        tap_failures=[
            f for f in tap_records if not (outcomes.is_skip(f) or outcomes.is_warning(f))
        ],
        skips=[f for f in tap_records if outcomes.is_skip(f)],
        warnings=[f for f in tap_records if outcomes.is_warning(f)],
        own_failures=invalid + outcomes.own_failures(outs),
        docs_found=len(listed_ids | tree.failed.docs),
    )


def _doc(tree: Tree, doc: DocStage, stem: str) -> DocOutcome:
    record = doc.record or {}
    rel = f"docs/{stem}"
    tree.mkdir(rel)
    tree.write_json(f"{rel}/doc.json", record)
    tree.write_json(f"{rel}/pages.json", staging_files.read_jsonl(doc.pages_path))
    tables = {str(o.get("id")): o for o in staging_files.read_jsonl(doc.tables_path)}
    tree.write_json(f"{rel}/tables.json", list(tables.values()))
    pages = doc_pages(tree, doc, rel)
    table_outs = doc_tables(tree, doc, rel, tables)
    doclogic.write_doc_files(tree, doc.doc_id, rel)
    entry = {
        "id": doc.doc_id,
        "name": record.get("name"),
        "updatedAt": record.get("updatedAt"),
        "path": rel,
        "status": _doc_status(tree, doc.doc_id),
        "source": tree.run_id,
        "pages": [p.entry for p in pages],
        "tables": [x.entry for x in table_outs],
    }
    out = DocOutcome(entry, pages, table_outs)
    entry["assets"] = assets.place_doc(tree, out, rel)
    return out


def _carried_doc(tree: Tree, prev_doc: dict[str, t.Any], stem: str) -> DocOutcome:
    """A doc that failed as a whole this run: its earlier folder, kept as it was."""
    old_rel, rel = str(prev_doc.get("path")), f"docs/{stem}"
    count, damage = tree.carry_folder(old_rel, rel)
    doc_id, name = str(prev_doc.get("id")), prev_doc.get("name")
    damaged = [
        outcomes.damaged("doc", doc_id, doc_id, name, path=p, reason=why) for p, why in damage
    ]
    failures = []
    if not count:
        run = tree.prev.run_id if tree.prev else None
        error = (
            f"failed this run and its folder {old_rel} is missing in latest ({run}); "
            f"{FULL_RUN_HINT}"
        )
        failures.append(outcomes.failure("doc", doc_id, doc_id, name, error))
    entry = rebase(copy.deepcopy(prev_doc), old_rel, rel)
    status = entry["status"] = "failed" if failures else _doc_status(tree, str(entry.get("id")))
    pages, tables = [], []
    for page in entry.get("pages", []):
        page["status"] = status
        _settle_paths(tree, page)
        pages.append(PageOutcome(page))
    for table in entry.get("tables", []):
        table["status"] = status
        _settle_paths(tree, table)
        tables.append(TableOutcome(table, layout.table_folder(table.get("tableType"))))
    return DocOutcome(
        entry, pages, tables, carried=count, failures=failures, listed=False, damaged=damaged
    )


def _doc_status(tree: Tree, doc_id: str) -> str:
    if doc_id in tree.failed.skipped_docs:
        return "skipped"
    return "failed" if doc_id in tree.failed.docs else "exported"


def _settle_paths(tree: Tree, entry: dict[str, t.Any]) -> None:
    """A kept entry names only what this run holds (older manifests named page and table
    stems, which exist only as a page's children folder)."""
    files = [f for f in (entry.get("files") or {}).values() if isinstance(f, dict)]
    for f in files:
        if f.get("path") and not (tree.root / str(f["path"])).is_file():
            f["path"] = None
    if "tableType" in entry:
        csv = (entry.get("files") or {}).get("csv") or {}
        entry["path"] = csv.get("path")
        return
    stem = entry.get("children") or entry.get("path")
    entry["path"] = next((f["path"] for f in files if f.get("path")), None)
    entry.pop("children", None)
    if stem and (tree.root / str(stem)).is_dir():
        entry["children"] = stem


def invalid_record_failures(staging: Staging) -> list[dict[str, t.Any]]:
    """Records kept although they did not match their schema, one failure each (then one
    for the rest of the stream)."""
    out = []
    for stream, count in staging.invalid.counts.items():
        reported = staging.invalid.reported.get(stream, [])
        for bad in reported:
            error = (
                f"`{stream}` record does not match its schema ({bad['error']}); kept as received"
            )
            out.append(
                outcomes.failure(
                    "record", bad["doc_id"], bad["object_id"], bad["name"], error, stream=stream
                )
            )
        if count > len(reported):
            more = count - len(reported)
            error = f"{more} more `{stream}` records do not match its schema; kept as received"
            out.append(outcomes.failure("record", None, None, None, error, stream=stream))
    return out


def _others(tree: Tree) -> list[dict[str, t.Any]]:
    others = tree.staging.others
    out = []
    for stream, rel in layout.other_paths(others).items():
        tree.place(others[stream].path, rel)
        out.append({"stream": stream, "path": rel, "records": others[stream].records})
    return out


def rebase(obj: t.Any, old: str, new: str) -> t.Any:
    """Rewrite manifest paths under folder `old` to folder `new`."""
    if isinstance(obj, dict):
        return {k: rebase(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rebase(v, old, new) for v in obj]
    if isinstance(obj, str) and (obj == old or obj.startswith(old + "/")):
        return new + obj[len(old) :]
    return obj
