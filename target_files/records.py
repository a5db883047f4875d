"""Record helpers shared by the staging rooms: API objects, required fields, JSON Lines,
records that did not match their schema."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from singer_sdk.exceptions import InvalidRecord

from target_files import fsutil, jsonio

#: Keys the tap adds to the API objects (docs/RECORDS.md: a row's `table_type` says
#: whether its table is a view); the tree's JSON files hold the API objects only.
TAP_KEYS = ("doc_id", "table_id", "table_type")


def api_object(record: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The API object of a record: the tap's parent ids removed."""
    return {k: v for k, v in record.items() if k not in TAP_KEYS}


def require(record: t.Mapping[str, t.Any], stream: str, *keys: str) -> None:
    missing = [k for k in keys if record.get(k) in (None, "")]
    if missing:
        raise InvalidRecord(f"`{stream}` record without {', '.join(missing)}", dict(record))


def refuse_dry_run(record: t.Mapping[str, t.Any]) -> None:
    """tap-coda's dry run says what it would export and read but fetches nothing: written
    out, it would replace every page and table with an empty file and become `latest`."""
    if record.get("dry_run"):
        msg = "the input is a tap-coda dry run (a plan, no content), not a backup"
        raise InvalidRecord(msg, dict(record))


def read_jsonl(path: Path) -> list[dict[str, t.Any]]:
    """Objects of one doc or table (last one wins per id, first position kept)."""
    if not path.exists():
        return []
    by_id: dict[str, dict[str, t.Any]] = {}
    with path.open(encoding=fsutil.ENCODING) as spool:
        for line in spool:
            obj = jsonio.loads(line)
            by_id[str(obj.get("id"))] = obj
    return list(by_id.values())


#: Records that failed schema validation, reported one by one per stream (then counted).
MAX_INVALID_REPORTED = 20


@dataclass
class InvalidRecords:
    """Records not matching their schema (kept): the first few per stream listed, then counted."""

    counts: dict[str, int] = field(default_factory=dict)
    reported: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)

    def add(self, stream: str, record: t.Mapping[str, t.Any], error: str) -> None:
        count = self.counts[stream] = self.counts.get(stream, 0) + 1
        if count <= MAX_INVALID_REPORTED:
            obj_id = record.get("id") or record.get("table_id") or record.get("page_id")
            self.reported.setdefault(stream, []).append(
                {
                    "doc_id": record.get("doc_id"),
                    "object_id": obj_id,
                    "name": record.get("name"),
                    "error": error,
                }
            )
