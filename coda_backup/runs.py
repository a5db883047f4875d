"""The run folders of an output folder, as the snapshot commands see them.

A run folder is a directory of `<output>` whose name is not hidden and not one of the
names the output folder reserves (`latest`, `docs`, …). `latest.txt` names the newest.
A run's `manifest.json` holds, under `files`, every other file of the run with its
`sha256`, `size` and `mtime_ns`, keyed by its path relative to the run (`/` separators).
Nothing here writes.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import typing as t
from pathlib import Path

import msgspec

from coda_backup.state import read_latest

MANIFEST = "manifest.json"
DEFAULT_OUTPUT = "coda-backups"
LATEST = "latest"
#: Entries of an output folder that are never run folders.
NOT_RUNS = frozenset({LATEST, "latest.txt", "state.json", "docs", "other"})
#: `2026-03-07T101530Z`, maybe `-2`, `-3` when that second was taken.
RUN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-(\d+))?$")


class RunNotFound(Exception):  # noqa: N818 - reported as a usage problem, not a crash
    """A RUN named on the command line is not a run folder of the output folder."""


class FileEntry(msgspec.Struct, frozen=True, gc=False):
    """What a manifest recorded about one file of its run (a struct without GC tracking:
    runs list thousands, and `verify --all` decodes one table per run)."""

    sha256: str
    size: int
    mtime_ns: int | None = None


class _FilesOnly(msgspec.Struct):
    """The one part of a manifest the snapshot checks need; the rest is skipped unparsed."""

    files: dict[str, FileEntry]


_FILES_ONLY = msgspec.json.Decoder(_FilesOnly)


def run_time(name: str) -> datetime.datetime | None:
    """The UTC start a run folder's name encodes, or None for other names."""
    match = RUN_NAME.match(name)
    if not match:
        return None
    moment = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H%M%SZ")
    return moment.replace(tzinfo=datetime.timezone.utc)


def list_runs(output: Path) -> list[str]:
    """Names of the run folders in `output`, oldest first (by name: UTC start)."""
    try:
        entries = list(output.iterdir())
    except OSError:
        return []
    names = [
        e.name
        for e in entries
        if not e.name.startswith(".")
        and e.name not in NOT_RUNS
        and not e.is_symlink()
        and e.is_dir()
    ]
    return sorted(names, key=_sort_key)


def _sort_key(name: str) -> tuple[str, int, str]:
    match = RUN_NAME.match(name)
    if match:
        return (match.group(1), int(match.group(2) or 1), "")
    return ("", 0, name)  # foreign names first: never taken for the newest


def resolve_run(output: Path, name: str) -> str:
    """A RUN argument (`latest` or a folder name) as a run folder name."""
    wanted = read_latest(output) if name == LATEST else name.rstrip("/\\")
    if wanted is None:
        msg = f"no latest run in {output} (no latest.txt)"
        raise RunNotFound(msg)
    if wanted not in list_runs(output):
        msg = f"{wanted!r} is not a run folder of {output}"
        raise RunNotFound(msg)
    return wanted


def select_runs(output: Path, names: t.Sequence[str]) -> list[str]:
    """RUN arguments as run folder names, each once, in the order given (none: latest)."""
    resolved = [resolve_run(output, name) for name in names or [LATEST]]
    return list(dict.fromkeys(resolved))


def read_manifest(run_dir: Path) -> dict[str, t.Any]:
    """A run's manifest; OSError/ValueError when it is missing, unreadable or not JSON."""
    data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        msg = "manifest.json is not a JSON object"
        raise ValueError(msg)
    return data


def read_manifest_files(run_dir: Path) -> dict[str, FileEntry]:
    """A run's `files` table read straight from its manifest (digests lower-cased), for
    checks that need nothing else: msgspec validates it and skips the rest of the manifest
    unparsed, several times faster than `manifest_files(read_manifest(...))`. OSError or
    ValueError as `read_manifest` and `manifest_files` raise them."""
    raw = (run_dir / MANIFEST).read_bytes()
    try:
        files = _FILES_ONLY.decode(raw).files
    except msgspec.ValidationError as exc:
        if "missing required field `files`" in str(exc):
            msg = "manifest.json has no `files` table (written before checksums existed?)"
        else:
            msg = f"manifest.json: {exc}"
        raise ValueError(msg) from None
    except msgspec.DecodeError as exc:
        msg = f"manifest.json is not JSON ({exc})"
        raise ValueError(msg) from None
    for rel, entry in files.items():
        if entry.sha256 != entry.sha256.lower():  # hand-edited: compare as the writer writes
            files[rel] = FileEntry(entry.sha256.lower(), entry.size, entry.mtime_ns)
    return files


def manifest_files(manifest: t.Mapping[str, t.Any]) -> dict[str, FileEntry]:
    """The manifest's `files` table; ValueError when it is absent or malformed."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        msg = "manifest.json has no `files` table (written before checksums existed?)"
        raise ValueError(msg)
    table: dict[str, FileEntry] = {}
    for rel, entry in files.items():
        if not isinstance(entry, dict):
            msg = f"manifest.json: entry for {rel!r} is not an object"
            raise ValueError(msg)
        sha, size, mtime = entry.get("sha256"), entry.get("size"), entry.get("mtime_ns")
        if not isinstance(sha, str) or not isinstance(size, int):
            msg = f"manifest.json: entry for {rel!r} lacks sha256 or size"
            raise ValueError(msg)
        table[str(rel)] = FileEntry(sha.lower(), size, mtime if isinstance(mtime, int) else None)
    return table


def walk_files(run_dir: Path) -> t.Iterator[tuple[str, Path]]:
    """Every file of a run but its manifest: (path relative to the run with `/`, path).

    Symlinks (to files or folders) are yielded as files and never followed: a run holds
    none, so one is worth reporting. Plain strings inside: pathlib per file costs more
    than stat-ing it.
    """
    for rel, path in walk_names(run_dir):
        yield rel, Path(path)


def walk_names(run_dir: Path) -> t.Iterator[tuple[str, str]]:
    """`walk_files` with the path as a string."""
    for rel, entry in walk_entries(run_dir):
        yield rel, entry.path


def walk_entries(
    run_dir: Path, *, ordered: bool = True
) -> t.Iterator[tuple[str, os.DirEntry[str]]]:
    """`walk_files` as scandir entries: their type needs no system call, and their
    `stat(follow_symlinks=False)` is the one lstat a check needs. `ordered=False`: in
    the file system's order, for callers that only look files up (no sort per folder)."""
    stack = [("", os.fspath(run_dir))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name) if ordered else list(found)
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                subdirs.append((rel + "/", entry.path))
            elif rel != MANIFEST:
                yield rel, entry
        stack.extend(reversed(subdirs))


def new_run_id(output: Path, now: datetime.datetime | None = None) -> str:
    """A name for a new run: its UTC start (`-2`, `-3`… when taken), as target-files
    names runs itself. Chosen under the output lock, so no other coda-backup takes it."""
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    base = moment.strftime("%Y-%m-%dT%H%M%SZ")
    for n in range(1, 10_000):
        name = base if n == 1 else f"{base}-{n}"
        if not (output / name).exists() and not (output / f".partial-{name}").exists():
            return name
    msg = f"no free run name for {base} in {output}"
    raise OSError(msg)
