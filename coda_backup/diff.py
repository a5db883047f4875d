"""`coda-backup diff [--output DIR] [OLD [NEW]] [--json]`: what changed between two runs.

Read from the two run folders only (their manifests and files), never from Coda. Docs,
pages and tables are matched by id: added, removed, renamed; a page whose exported
content differs is changed; a table whose CSV differs is compared row by row
(`target_files.tablediff`, shared with the run's index.html through
`target_files.rundiff`). Defaults: the run before `latest`, and `latest`. Exit 0 (differences
are not an error), 1 when a run cannot be read, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import typing as t
from pathlib import Path

from coda_backup import runs
from target_files.rundiff import KINDS, Side, diff_runs, scratch_db

EXIT_OK = 0
EXIT_FATAL = 1


def read_run(output: Path, name: str) -> Side:
    """One run folder's objects and digests, from its manifest (OSError/ValueError when
    it cannot be read)."""
    root = output / name
    manifest = runs.read_manifest(root)
    try:
        digests = {k: v.sha256 for k, v in runs.manifest_files(manifest).items()}
    except ValueError:
        digests = {}
    return Side.of(name, root, manifest.get("docs") or [], digests)


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
        old, new = read_run(output, old_name), read_run(output, new_name)
    except runs.RunNotFound as exc:
        parser.error(str(exc))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        sys.stderr.write(f"coda-backup diff: error: cannot read a manifest: {reason}\n")
        return EXIT_FATAL
    with tempfile.TemporaryDirectory(prefix="coda-backup-diff-") as tmp:
        db = scratch_db(Path(tmp))
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
