"""What changed between two runs, read from their manifests and files only, never from Coda.

Shared by `coda-backup diff` and the run's `index.html` (which target-files writes at the
end of a run, before this run has a manifest: hence `Side`, built from manifest entries
and file digests, not from a folder). Docs, pages and tables are matched by id: added,
removed, renamed; a page whose exported content differs is changed; a table whose CSV
differs is compared row by row (`tablediff`).
"""

from __future__ import annotations

import filecmp
import sqlite3
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from target_files import tablediff

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

KINDS = ("docs", "pages", "tables")
Key = tuple[str, str]


@dataclass
class Side:
    """One run's objects by (doc id, id), and its files' sha256 by path when recorded."""

    name: str
    root: Path
    digests: dict[str, str] = field(default_factory=dict)
    objects: dict[str, dict[Key, dict[str, t.Any]]] = field(
        default_factory=lambda: {k: {} for k in KINDS}
    )

    @classmethod
    def of(
        cls, name: str, root: Path, docs: Iterable[Mapping[str, t.Any]], digests: dict[str, str]
    ) -> Side:
        side = cls(name, root, digests)
        for doc in docs:
            doc_id = str(doc.get("id"))
            side.objects["docs"][(doc_id, doc_id)] = dict(doc)
            for kind in ("pages", "tables"):
                for obj in doc.get(kind) or []:
                    side.objects[kind][(doc_id, str(obj.get("id")))] = obj
        return side


def scratch_db(folder: Path) -> sqlite3.Connection:
    """The row comparison's scratch database in `folder`: no journal, no fsync (a cache
    spill would otherwise sync), and a page cache big enough to stay fast, small enough
    to stay flat (32 MB)."""
    db = sqlite3.connect(folder / "rows.sqlite")
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-32000;")
    return db


def _paths(obj: Mapping[str, t.Any], kinds: Iterable[str]) -> dict[str, str]:
    files = obj.get("files") or {}
    found = {k: files[k].get("path") for k in kinds if isinstance(files.get(k), dict)}
    return {k: p for k, p in found.items() if isinstance(p, str)}


def same_file(old: Side, old_rel: str, new: Side, new_rel: str) -> bool:
    """Equal content: by the manifests' digests when both have them, else byte by byte."""
    a, b = old.digests.get(old_rel), new.digests.get(new_rel)
    if a and b:
        return a == b
    try:
        return filecmp.cmp(old.root / old_rel, new.root / new_rel, shallow=False)
    except OSError:
        return False


def _entry(key: Key, obj: Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {"doc_id": key[0], "id": key[1], "name": obj.get("name")}


def _page_changed(old: Side, new: Side, a: dict[str, t.Any], b: dict[str, t.Any]) -> bool:
    old_paths, new_paths = _paths(a, ("markdown", "html")), _paths(b, ("markdown", "html"))
    if old_paths.keys() != new_paths.keys():
        return True
    return not all(same_file(old, old_paths[k], new, new_paths[k]) for k in old_paths)


def _table_change(
    db: sqlite3.Connection, old: Side, new: Side, a: dict[str, t.Any], b: dict[str, t.Any]
) -> tablediff.TableChange | None:
    old_csv, new_csv = _paths(a, ("csv",)).get("csv"), _paths(b, ("csv",)).get("csv")
    if not old_csv or not new_csv or same_file(old, old_csv, new, new_csv):
        return None
    change = tablediff.diff_tables(
        db, old.root / old_csv, new.root / new_csv, a.get("csvColumns"), b.get("csvColumns")
    )
    return change or None


def _common(before: Mapping[Key, t.Any], after: Mapping[Key, t.Any]) -> Iterator[Key]:
    return iter(sorted(before.keys() & after.keys()))


def diff_runs(old: Side, new: Side, db: sqlite3.Connection) -> dict[str, t.Any]:
    """{"old", "new", and per kind {"added", "removed", "renamed"[, "changed"]}}."""
    result: dict[str, t.Any] = {"old": old.name, "new": new.name}
    for kind in KINDS:
        before, after = old.objects[kind], new.objects[kind]
        section: dict[str, list[dict[str, t.Any]]] = {
            "added": [_entry(k, after[k]) for k in sorted(after.keys() - before.keys())],
            "removed": [_entry(k, before[k]) for k in sorted(before.keys() - after.keys())],
            "renamed": [],
        }
        if kind != "docs":
            section["changed"] = []
        for key in _common(before, after):
            a, b = before[key], after[key]
            if a.get("name") != b.get("name"):
                entry = {"doc_id": key[0], "id": key[1]}
                section["renamed"].append(
                    entry | {"old_name": a.get("name"), "new_name": b.get("name")}
                )
            if kind == "pages" and _page_changed(old, new, a, b):
                section["changed"].append(_entry(key, b))
            elif kind == "tables" and (change := _table_change(db, old, new, a, b)):
                section["changed"].append(_entry(key, b) | vars(change))
        result[kind] = section
    return result
