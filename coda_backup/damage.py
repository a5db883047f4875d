"""The pre-run damage check: before an incremental run, is `latest` still what it was?

An incremental run carries `latest`'s unchanged files forward as hard links, so a file
damaged in `latest` would spread into every later run. Before such a run, each file of
`latest` is checked against its manifest entry:

- always its size and modification time (`mtime_ns`): a stat per file, no read. Catches
  truncation, growth, replacement, deletion and any in-place edit that moves the
  modification time (every editor and `>>`);
- the full sha256 as well under `--verify-carried`, and whenever the last full check of
  this output folder is older than `FULL_CHECK_DAYS` (30): catches what keeps size and
  time (bit rot, a byte flipped with the time put back).

Each damaged file is mapped through the manifest to its object (`<doc_id>/<page_id>` or
`<doc_id>/<table_id>`), which the tap's `refetch` setting fetches again from Coda in the
same run (page exported, table read in full). Files of no object (doc.json, pages.json,
summary.json, …) are written afresh by every run anyway.
"""

from __future__ import annotations

import datetime
import json
import logging
import typing as t
from dataclasses import dataclass
from pathlib import Path

from coda_backup import runs, verify
from coda_backup.state import STATE_FILE

FULL_CHECK_DAYS = 30

logger = logging.getLogger("coda-backup")


@dataclass(frozen=True)
class Damaged:
    path: str
    detail: str
    object_key: str | None  # "<doc_id>/<object_id>" for the tap's `refetch`


def object_paths(manifest: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Every file path the manifest gives a page or table, mapped to that object."""
    owners: dict[str, str] = {}
    for doc in manifest.get("docs") or []:
        for kind in ("pages", "tables"):
            for obj in doc.get(kind) or []:
                key = f"{doc.get('id')}/{obj.get('id')}"
                for entry in (obj.get("files") or {}).values():
                    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                        owners[entry["path"]] = key
    return owners


def _cheap_problem(path: Path, entry: runs.FileEntry) -> str | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if st.st_size != entry.size:
        return f"size {st.st_size} bytes, the manifest says {entry.size}"
    if entry.mtime_ns is not None and st.st_mtime_ns != entry.mtime_ns:
        return "modified since the run (modification time moved)"
    return None


def check_run(run_dir: Path, *, full: bool) -> list[Damaged]:
    """The damaged files of a run; ValueError/OSError when its manifest cannot be used."""
    manifest = runs.read_manifest(run_dir)
    listed = runs.manifest_files(manifest)
    owners = object_paths(manifest)
    digests = verify.Digests()
    found = []
    for rel, entry in sorted(listed.items()):
        detail = _cheap_problem(run_dir / rel, entry)
        if detail is None and full:
            problem = verify.check_file(run_dir, rel, entry, digests)
            detail = problem.detail if problem else None
        if detail is not None:
            found.append(Damaged(rel, detail, owners.get(rel)))
    return found


def refetch_keys(damaged: t.Iterable[Damaged]) -> list[str]:
    return sorted({d.object_key for d in damaged if d.object_key})


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def checked_now() -> str:
    """`full_check_at` for files checked, or written and digested, now."""
    return _now().isoformat(timespec="seconds")


def last_full_check(output: Path) -> str | None:
    """When `latest` was last checked in full (state.json's `full_check_at`)."""
    try:
        data = json.loads((output / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    value = data.get("full_check_at") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def full_check_due(last: str | None, now: datetime.datetime | None = None) -> bool:
    """True when the last full check is unknown or older than FULL_CHECK_DAYS."""
    try:
        moment = datetime.datetime.fromisoformat(last or "")
    except ValueError:
        return True
    return (now or _now()) - moment > datetime.timedelta(days=FULL_CHECK_DAYS)


def pre_run_check(
    output: Path, latest: str, *, verify_carried: bool
) -> tuple[list[str], str | None]:
    """Check `latest` before an incremental run: the objects to fetch again, and the
    `full_check_at` to keep in state.json. Each damaged file is one warning line."""
    last = last_full_check(output)
    full = verify_carried or full_check_due(last)
    try:
        damaged = check_run(output / latest, full=full)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # a run from before manifests held digests has nothing to check against: that
        # is no news for every run of an old backup, so not a warning
        logger.info("cannot check %s for damage before carrying it forward: %s", latest, exc)
        return [], last
    for d in damaged:
        what = f"fetched again from Coda ({d.object_key})" if d.object_key else "rewritten"
        logger.warning("damaged in latest: %s/%s: %s; %s", latest, d.path, d.detail, what)
    checked = checked_now() if full else last
    return refetch_keys(damaged), checked
