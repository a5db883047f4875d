"""`coda-backup diff [--output DIR] [OLD [NEW]] [--json]`: what changed between two runs.

Read from the two run folders only (their manifests and files), never from Coda. Docs,
pages and tables are matched by id: added, removed, renamed; a page whose exported
content differs is changed; a table whose CSV differs is compared row by row
(`tablediff`). Defaults: the run before `latest`, and `latest`. Exit 0 (differences
are not an error), 1 when a run cannot be read, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import sqlite3
import sys
import tempfile
import typing as t
from pathlib import Path

from coda_backup import runs, tablediff

EXIT_OK = 0
EXIT_FATAL = 1
KINDS = ("docs", "pages", "tables")


class Run:
    """One run folder's objects by (doc id, id), and its files' digests when recorded."""

    def __init__(self, output: Path, name: str) -> None:
        self.name = name
        self.root = output / name
        manifest = runs.read_manifest(self.root)
        try:
            self.digests = {k: v.sha256 for k, v in runs.manifest_files(manifest).items()}
        except ValueError:
            self.digests = {}
        self.objects: dict[str, dict[tuple[str, str], dict[str, t.Any]]] = {k: {} for k in KINDS}
        for doc in manifest.get("docs") or []:
            doc_id = str(doc.get("id"))
            self.objects["docs"][(doc_id, doc_id)] = doc
            for kind in ("pages", "tables"):
                for obj in doc.get(kind) or []:
                    self.objects[kind][(doc_id, str(obj.get("id")))] = obj


def _paths(obj: t.Mapping[str, t.Any], kinds: t.Iterable[str]) -> dict[str, str]:
    files = obj.get("files") or {}
    found = {k: files[k].get("path") for k in kinds if isinstance(files.get(k), dict)}
    return {k: p for k, p in found.items() if isinstance(p, str)}


def same_file(old: Run, old_rel: str, new: Run, new_rel: str) -> bool:
    """Equal content: by the manifests' digests when both have them, else byte by byte."""
    a, b = old.digests.get(old_rel), new.digests.get(new_rel)
    if a and b:
        return a == b
    try:
        return filecmp.cmp(old.root / old_rel, new.root / new_rel, shallow=False)
    except OSError:
        return False


def _entry(key: tuple[str, str], obj: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {"doc_id": key[0], "id": key[1], "name": obj.get("name")}


def _page_changed(old: Run, new: Run, a: dict[str, t.Any], b: dict[str, t.Any]) -> bool:
    old_paths, new_paths = _paths(a, ("markdown", "html")), _paths(b, ("markdown", "html"))
    if old_paths.keys() != new_paths.keys():
        return True
    return not all(same_file(old, old_paths[k], new, new_paths[k]) for k in old_paths)


def _table_change(
    db: sqlite3.Connection, old: Run, new: Run, a: dict[str, t.Any], b: dict[str, t.Any]
) -> tablediff.TableChange | None:
    old_csv, new_csv = _paths(a, ("csv",)).get("csv"), _paths(b, ("csv",)).get("csv")
    if not old_csv or not new_csv or same_file(old, old_csv, new, new_csv):
        return None
    change = tablediff.diff_tables(
        db, old.root / old_csv, new.root / new_csv, a.get("csvColumns"), b.get("csvColumns")
    )
    return change or None


def diff_runs(old: Run, new: Run, db: sqlite3.Connection) -> dict[str, t.Any]:
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
        for key in sorted(before.keys() & after.keys()):
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


def text_lines(result: t.Mapping[str, t.Any]) -> list[str]:
    lines = []
    for kind in KINDS:
        noun = kind[:-1]
        for what in ("added", "removed", "changed"):
            for e in result[kind].get(what, []):
                line = f"{noun} {what}: {e['name']} ({e['doc_id']}/{e['id']})"
                if kind == "tables" and what == "changed":
                    line += (
                        f": {len(e['rows_added'])} rows added, {len(e['rows_removed'])} "
                        f"removed, {len(e['rows_changed'])} changed"
                    )
                    for side in ("added", "removed"):
                        if cols := e[f"columns_{side}"]:
                            names = ", ".join(c["name"] for c in cols)
                            line += f"; columns {side}: {names}"
                lines.append(line)
        for e in result[kind]["renamed"]:
            lines.append(f"{noun} renamed: {e['old_name']} -> {e['new_name']} ({e['id']})")
    counts = ", ".join(f"{sum(len(v) for v in result[k].values())} {k}" for k in KINDS)
    lines.append(f"diff {result['old']} -> {result['new']}: changes in {counts}")
    return lines


def default_pair(output: Path, names: list[str]) -> tuple[str, str]:
    """OLD and NEW from the arguments: none → (run before latest, latest)."""
    new = runs.resolve_run(output, names[1] if len(names) > 1 else runs.LATEST)
    if names:
        return runs.resolve_run(output, names[0]), new
    every = runs.list_runs(output)
    earlier = every[: every.index(new)]
    if not earlier:
        msg = f"{new} is the only run in {output}: nothing to compare it with"
        raise runs.RunNotFound(msg)
    return earlier[-1], new


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup diff",
        description="What changed between two runs (default: the run before latest, and "
        "latest): docs, pages and tables added, removed, renamed; changed pages; rows and "
        "columns of changed tables. Reads only the two run folders.",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="OLD [NEW]")
    parser.add_argument("--output", metavar="DIR", type=Path, default=Path(runs.DEFAULT_OUTPUT))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(args.runs) > 2:
        parser.error("give at most two runs: OLD [NEW]")
    output = args.output.expanduser().absolute()
    try:
        old_name, new_name = default_pair(output, args.runs)
        old, new = Run(output, old_name), Run(output, new_name)
    except runs.RunNotFound as exc:
        parser.error(str(exc))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        sys.stderr.write(f"coda-backup diff: error: cannot read a manifest: {reason}\n")
        return EXIT_FATAL
    with tempfile.TemporaryDirectory(prefix="coda-backup-diff-") as tmp:
        db = sqlite3.connect(Path(tmp) / "rows.sqlite")
        # a scratch file: no journal, no fsync (a cache spill would otherwise sync), and a
        # page cache big enough to stay fast, small enough to stay flat (32 MB)
        db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-32000;"
        )
        try:
            result = diff_runs(old, new, db)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            sys.stderr.write(f"coda-backup diff: error: cannot read a table: {reason}\n")
            return EXIT_FATAL
        finally:
            db.close()
    text = json.dumps(result, ensure_ascii=False) if args.json else "\n".join(text_lines(result))
    sys.stdout.write(text + "\n")
    return EXIT_OK
