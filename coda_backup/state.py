"""`<output>/state.json`: the Singer state of the run that `latest` points at.

`{"run_id": "<run folder>", "manifest_sha256": "…", "singer_state": {…}}`. The run id and
the digest of that run's manifest tie the state to one run folder (a run id alone is a
UTC second, which another output folder can share). An incremental run carries unchanged
objects forward from `latest`, so a state that belongs to any other run (restored from
elsewhere, left by a run that was not promoted, `latest` moved by hand) would skip objects
`latest` does not hold. Such a state is ignored and the run is a full one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "state.json"
LATEST_FILE = "latest.txt"


@dataclass
class LoadedState:
    singer_state: dict[str, t.Any] | None
    #: why a state is (not) used: one line for the log
    reason: str


def read_latest(output: Path) -> str | None:
    """The run folder `latest` names (latest.txt: portable, unlike the symlink)."""
    try:
        name = (output / LATEST_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name or None


def _read_state_file(path: Path) -> tuple[dict[str, t.Any] | None, str]:
    """state.json's content, or None and what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no {STATE_FILE} in {path.parent}"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path} is unreadable ({_short(exc)})"
    if not isinstance(data, dict) or not isinstance(data.get("singer_state"), dict):
        return None, f"{path} is not a coda-backup state file"
    return data, ""


def load_state(output: Path) -> LoadedState:
    """The state for an incremental run, or None with the reason a full run is needed."""
    latest = read_latest(output)
    if latest is None:
        return LoadedState(None, f"no previous run in {output} (no {LATEST_FILE})")
    if not (output / latest).is_dir():
        # unchanged objects are carried forward from it: without it they would be lost
        return LoadedState(None, f"the latest run folder {output / latest} is missing")
    data, problem = _read_state_file(output / STATE_FILE)
    if data is None:
        return LoadedState(None, problem)
    if data.get("run_id") != latest or data.get("manifest_sha256") != manifest_digest(
        output / latest
    ):
        return LoadedState(
            None,
            f"{output / STATE_FILE} belongs to run {data.get('run_id')!r} of another "
            f"backup, not to latest ({latest!r} in {output})",
        )
    return LoadedState(data["singer_state"], f"incremental run from the state of {latest}")


def manifest_digest(run_folder: Path) -> str | None:
    """sha256 of a run's manifest.json: what makes a run folder this one and no other."""
    try:
        return hashlib.sha256((run_folder / "manifest.json").read_bytes()).hexdigest()
    except OSError:
        return None


def save_state(
    output: Path,
    run_id: str,
    singer_state: dict[str, t.Any],
    extra: t.Mapping[str, t.Any] | None = None,
) -> Path:
    """Write state.json atomically (temp file + os.replace), readable by the owner only.

    `extra`: further top-level keys (the pre-run damage check's `full_check_at`)."""
    path = output / STATE_FILE
    record = {
        **(extra or {}),
        "run_id": run_id,
        "manifest_sha256": manifest_digest(output / run_id),
        "singer_state": singer_state,
    }
    fd, tmp_name = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=output)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            json.dump(record, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)  # atomic (os.replace): readers see the old or the new file
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def partitions(singer_state: dict[str, t.Any] | None, stream: str) -> list[dict[str, t.Any]]:
    """A stream's per-context bookmarks (singer-sdk: bookmarks.<stream>.partitions)."""
    bookmarks = (singer_state or {}).get("bookmarks") or {}
    entry = bookmarks.get(stream) or {}
    found = entry.get("partitions") if isinstance(entry, dict) else None
    return [p for p in found or [] if isinstance(p, dict) and isinstance(p.get("context"), dict)]


def _short(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
