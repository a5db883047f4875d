"""`coda-backup verify [--output DIR] [RUN ...] [--all] [--json]`: prove runs are intact.

Every file a run's manifest lists must be there with its recorded size and sha256; a file
missing, changed or present but not listed is one problem line with its path, and so is
a missing, unreadable or malformed manifest. Runs share most files through hard links:
each distinct file (device, inode) is read once however many runs list it, so verifying
thirty runs costs little more than one. Exit 0 intact, 1 damage found, 2 usage error.
Verify only reads: it takes no lock and may run beside a backup.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from coda_backup import runs

EXIT_OK = 0
EXIT_DAMAGED = 1
EXIT_USAGE = 2
#: Read size when hashlib.file_digest is absent (Python 3.10): large reads, few calls.
CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the run, `/` separators
    kind: str  # missing | changed | unlisted | unreadable | manifest
    detail: str


@dataclass
class RunReport:
    run: str
    files: int = 0
    problems: list[Problem] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{self.run}/{p.path}: {p.detail}" for p in self.problems]


def sha256_of(path: str | Path) -> str:
    """The file's sha256, streamed (no whole-file read into memory)."""
    with open(path, "rb", buffering=0) as handle:  # noqa: PTH123 - str paths on purpose
        if hasattr(hashlib, "file_digest"):  # Python 3.11+: readinto one reused buffer
            hexdigest: str = hashlib.file_digest(handle, "sha256").hexdigest()
            return hexdigest
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
        return digest.hexdigest()


class Digests:
    """sha256 of each distinct file (device, inode) read so far: hard links read once."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], str] = {}
        self.files_read = 0
        self.bytes_read = 0

    def of(self, path: str | Path, st: os.stat_result) -> str:
        key = (st.st_dev, st.st_ino)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = sha256_of(path)
            self.files_read += 1
            self.bytes_read += st.st_size
        return found


def _inside(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and ".." not in parts and ":" not in parts[0]


def check_file(
    run_dir: Path,
    rel: str,
    entry: runs.FileEntry,
    digests: Digests,
    found: os.DirEntry[str] | None = None,
) -> Problem | None:
    """One listed file against its manifest entry: None when it is intact. `found`: the
    file's scandir entry when the run was walked already (saves a path join and lstat)."""
    if found is None and not _inside(rel):  # a walked file is inside by construction
        return Problem(rel, "manifest", "the manifest lists a path outside the run")
    try:
        if found is not None:
            path, st = found.path, found.stat(follow_symlinks=False)
        else:
            path = os.path.join(run_dir, rel)  # noqa: PTH118 - pathlib costs more than stat
            st = os.lstat(path)
        detail = _mismatch(path, st, entry, digests)
    except FileNotFoundError:
        return Problem(rel, "missing", "missing")
    except OSError as exc:
        return Problem(rel, "unreadable", f"unreadable ({exc.strerror or exc})")
    return Problem(rel, "changed", detail) if detail else None


def _mismatch(path: str, st: os.stat_result, entry: runs.FileEntry, digests: Digests) -> str:
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file any more"
    if st.st_size != entry.size:
        return f"size {st.st_size} bytes, the manifest says {entry.size}"
    if digests.of(path, st) != entry.sha256:
        return "content changed (sha256 differs from the manifest)"
    return ""


def verify_run(output: Path, name: str, digests: Digests) -> RunReport:
    report = RunReport(name)
    run_dir = output / name
    try:
        listed = runs.read_manifest_files(run_dir)
    except FileNotFoundError:
        report.problems.append(Problem(runs.MANIFEST, "manifest", "manifest missing"))
        return report
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        report.problems.append(Problem(runs.MANIFEST, "manifest", f"manifest: {reason}"))
        return report
    present = dict(runs.walk_entries(run_dir, ordered=False))  # reported sorted below
    for rel, entry in sorted(listed.items()):
        report.files += 1
        if rel not in present and _inside(rel):
            report.problems.append(Problem(rel, "missing", "missing"))
        elif problem := check_file(run_dir, rel, entry, digests, present.get(rel)):
            report.problems.append(problem)
    report.problems += [
        Problem(rel, "unlisted", "not listed in the manifest")
        for rel in sorted(present.keys() - listed.keys())
    ]
    return report


def verify(output: Path, names: t.Sequence[str]) -> tuple[list[RunReport], Digests]:
    digests = Digests()
    return [verify_run(output, name, digests) for name in names], digests


# -- command line --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup verify",
        description="Check run folders against their manifests: every listed file present "
        "with its size and sha256, nothing unlisted. Exit 0 intact, 1 damaged, 2 usage.",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="run folder names (default: latest)")
    parser.add_argument("--output", metavar="DIR", type=Path, default=Path(runs.DEFAULT_OUTPUT))
    parser.add_argument("--all", action="store_true", help="verify every run folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _as_json(reports: list[RunReport], digests: Digests) -> str:
    body = {
        "ok": not any(r.problems for r in reports),
        "runs": [
            {
                "run": r.run,
                "files": r.files,
                "problems": [
                    {"path": p.path, "kind": p.kind, "detail": p.detail} for p in r.problems
                ],
            }
            for r in reports
        ],
        "files_read": digests.files_read,
        "bytes_read": digests.bytes_read,
    }
    return json.dumps(body, ensure_ascii=False)


def _as_text(reports: list[RunReport], digests: Digests) -> str:
    lines = [line for r in reports for line in r.lines()]
    damaged = sum(len(r.problems) for r in reports)
    verdict = f"{damaged} problem(s) found" if damaged else "intact"
    lines.append(
        f"verify: {len(reports)} run(s), {sum(r.files for r in reports)} files listed, "
        f"{digests.files_read} distinct files read ({digests.bytes_read:,} bytes): {verdict}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output = args.output.expanduser().absolute()
    if args.all and args.runs:
        parser.error("give RUN names or --all, not both")
    try:
        names = runs.list_runs(output) if args.all else runs.select_runs(output, args.runs)
    except runs.RunNotFound as exc:
        parser.error(str(exc))
    if not names:
        parser.error(f"no run folders in {output}")
    reports, digests = verify(output, names)
    text = _as_json(reports, digests) if args.json else _as_text(reports, digests)
    sys.stdout.write(text + "\n")
    return EXIT_DAMAGED if any(r.problems for r in reports) else EXIT_OK
