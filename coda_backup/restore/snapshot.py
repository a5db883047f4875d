"""What a run saved, as a restore needs it: read from its manifest and files only.

Relied on (docs/RESTORE.md): `manifest.json` → `docs[]` (`id`, `name`, `path`, `pages[]`
with `id`, `parent_id`, `files.markdown|html.path`; `tables[]` with `id`, `name`,
`tableType`, `csvColumns`, `files.rows_json|csv|columns.path`), the doc's `pages.json`
(names, subtitles, icons, `isHidden`, `contentType`, in Coda's order) and each table's
`columns.json`. Rows come from `<table>.rows.jsonl` when the run has one (values exactly as
served), else from the CSV (cells as text; arrays read back from their JSON).
"""

from __future__ import annotations

import csv
import json
import typing as t
from dataclasses import dataclass
from pathlib import Path

from coda_backup import runs
from tap_coda.responses import decode_json
from target_files.csvfile import FIELD_SIZE_LIMIT

#: The CSV's own columns before the values (DESIGN: CSV header).
ROW_PREFIX = 6


class SnapshotError(Exception):
    """The run cannot be read, or does not hold what was asked for: one line."""


@dataclass(frozen=True)
class SavedRow:
    id: str
    values: dict[str, t.Any]  # column id -> value (simpleWithArrays form, or CSV text)


@dataclass(frozen=True)
class SavedPage:
    id: str
    name: str
    parent_id: str | None
    obj: dict[str, t.Any]  # the Page object of pages.json
    content: str | None  # the saved export, HTML preferred
    content_format: str | None  # "html" / "markdown"


def open_run(spec: str, output: Path | None) -> Path:
    """`--from`: a run folder, a backup folder (its latest run) or, with --output, a run name."""
    path = Path(spec).expanduser()
    if (path / runs.MANIFEST).is_file():
        return path
    try:
        if (path / "latest.txt").is_file():
            return path / runs.resolve_run(path, runs.LATEST)
        if output is not None:
            return output / runs.resolve_run(output, spec)
    except runs.RunNotFound as exc:
        raise SnapshotError(str(exc)) from None
    msg = f"{spec} is not a run folder (no {runs.MANIFEST}) nor a backup folder (no latest.txt)"
    raise SnapshotError(msg)


class Snapshot:
    def __init__(self, run: Path) -> None:
        self.run = run
        try:
            self.manifest = runs.read_manifest(run)
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"cannot read {run / runs.MANIFEST}: {exc}") from None

    def _json(self, rel: str) -> t.Any:
        try:
            return json.loads((self.run / rel).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"cannot read {rel} of run {self.run.name}: {exc}") from None

    def doc(self, key: str) -> dict[str, t.Any]:
        """A doc of the run by id, else by exact name."""
        docs = [d for d in self.manifest.get("docs") or [] if isinstance(d, dict)]
        found = [d for d in docs if d.get("id") == key] or [d for d in docs if d.get("name") == key]
        if not found:
            raise SnapshotError(f"run {self.run.name} holds no doc {key!r}")
        return found[0]

    def table(self, doc: dict[str, t.Any], key: str) -> dict[str, t.Any]:
        tables = [x for x in doc.get("tables") or [] if isinstance(x, dict)]
        found = [x for x in tables if x.get("id") == key] or [
            x for x in tables if x.get("name") == key
        ]
        if not found:
            raise SnapshotError(f"run {self.run.name} holds no table {key!r} of doc {doc['id']}")
        if len(found) > 1:
            ids = ", ".join(str(x.get("id")) for x in found)
            raise SnapshotError(f"several tables are named {key!r} ({ids}): give its id")
        return found[0]

    @staticmethod
    def _path(entry: dict[str, t.Any], kind: str) -> str | None:
        file = (entry.get("files") or {}).get(kind)
        return str(file["path"]) if isinstance(file, dict) and file.get("path") else None

    def columns(self, table: dict[str, t.Any]) -> list[dict[str, t.Any]]:
        rel = self._path(table, "columns")
        if rel is None:
            raise SnapshotError(f"run {self.run.name} has no columns.json of table {table['id']}")
        return [c for c in self._json(rel) if isinstance(c, dict)]

    def rows(self, table: dict[str, t.Any]) -> list[SavedRow]:
        rel = self._path(table, "rows_json")
        if rel is not None:
            return list(self._rows_jsonl(self.run / rel))
        rel = self._path(table, "csv")
        if rel is None:
            raise SnapshotError(f"run {self.run.name} has no rows of table {table['id']}")
        return list(self._rows_csv(self.run / rel, [str(c) for c in table.get("csvColumns") or []]))

    @staticmethod
    def _rows_jsonl(path: Path) -> t.Iterator[SavedRow]:
        with path.open(encoding="utf-8") as fin:
            for line in fin:
                if line.strip():
                    row = decode_json(line.encode())
                    yield SavedRow(str(row["id"]), dict(row.get("values") or {}))

    @staticmethod
    def _rows_csv(path: Path, column_ids: list[str]) -> t.Iterator[SavedRow]:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
        with path.open(encoding="utf-8", newline="") as fin:
            reader = csv.reader(fin)
            next(reader, None)
            for cells in reader:
                values = dict(zip(column_ids, (_cell(c) for c in cells[ROW_PREFIX:]), strict=False))
                yield SavedRow(cells[0], values)

    def pages(self, doc: dict[str, t.Any]) -> list[SavedPage]:
        """The doc's saved pages in Coda's order (pages.json), with their saved content."""
        entries = {str(p.get("id")): p for p in doc.get("pages") or [] if isinstance(p, dict)}
        objects = self._json(f"{doc['path']}/pages.json")
        out = []
        for obj in objects:
            page_id = str(obj.get("id"))
            entry = entries.get(page_id, {})
            parent = obj.get("parent") if isinstance(obj.get("parent"), dict) else None
            content, fmt = None, None
            for kind in ("html", "markdown"):
                rel = self._path(entry, kind)
                if rel is not None and (self.run / rel).is_file():
                    content, fmt = (self.run / rel).read_text(encoding="utf-8"), kind
                    break
            parent_id = str(parent["id"]) if parent and parent.get("id") else None
            out.append(SavedPage(page_id, str(obj.get("name") or ""), parent_id, obj, content, fmt))
        return out


def _cell(text: str) -> t.Any:
    """A CSV cell as a value to write: arrays back from their compact JSON, else the text."""
    if text.startswith("[") and text.endswith("]"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
