"""`coda-backup archive [--output DIR] [RUN] [--format zip|tar.gz] [--to PATH]`.

One run folder as one file: members under `<run>/`, so unpacking gives exactly the run
folder. Written to a hidden temporary name beside the destination, then read back: every
member must match the digest the run's manifest records (`files`; for runs written before
digests were recorded, the digest of the file as it was archived) and every listed file
must be there. Only then is it renamed into place; a failed check leaves no archive.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import sys
import tarfile
import typing as t
import zipfile
from pathlib import Path

from coda_backup import runs, verify

logger = logging.getLogger("coda-backup")

FORMATS = {"zip": ".zip", "tar.gz": ".tar.gz"}
EXIT_OK = 0
EXIT_FATAL = 1
CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive could not be written or did not read back as the run."""


def _members(run_dir: Path) -> list[tuple[str, Path]]:
    """Every file of the run, manifest included, relative with `/`."""
    return [(runs.MANIFEST, run_dir / runs.MANIFEST), *runs.walk_files(run_dir)]


def expected_digests(run_dir: Path) -> dict[str, str]:
    """What each member must hash to: the manifest's record, and the manifest's own."""
    try:
        listed = runs.read_manifest_files(run_dir)
    except FileNotFoundError:
        msg = f"{run_dir.name} has no manifest.json"
        raise ArchiveError(msg) from None
    except ValueError:  # a run from before digests were recorded: checked as archived
        listed = {}
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read the manifest of {run_dir.name}: {exc}"
        raise ArchiveError(msg) from None
    digests = {rel: entry.sha256 for rel, entry in listed.items()}
    digests[runs.MANIFEST] = verify.sha256_of(run_dir / runs.MANIFEST)
    return digests


def _write(tmp: Path, run_dir: Path, fmt: str) -> dict[str, str]:
    """Write the archive; return the digest of every file as it was read into it."""
    seen: dict[str, str] = {}
    name = run_dir.name
    if fmt == "zip":
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for rel, path in _members(run_dir):
                zf.write(path, f"{name}/{rel}")
                seen[rel] = verify.sha256_of(path)
    else:
        with tarfile.open(tmp, "w:gz") as tar:
            for rel, path in _members(run_dir):
                tar.add(path, f"{name}/{rel}", recursive=False)
                seen[rel] = verify.sha256_of(path)
    return seen


def _stream_digest(handle: t.IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def read_back(path: Path, fmt: str, run: str) -> dict[str, str]:
    """Each file member's sha256, by its path inside the run."""
    found: dict[str, str] = {}
    prefix = f"{run}/"
    if fmt == "zip":
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    with zf.open(info) as member:
                        found[info.filename.removeprefix(prefix)] = _stream_digest(member)
    else:
        with tarfile.open(path, "r:gz") as tar:
            for entry in tar:
                extracted = tar.extractfile(entry) if entry.isfile() else None
                if extracted is not None:
                    with extracted:
                        found[entry.name.removeprefix(prefix)] = _stream_digest(extracted)
    return found


def make_archive(output: Path, run: str, fmt: str, to: Path | None = None) -> Path:
    run_dir = output / run
    destination = (to or output / f"{run}{FORMATS[fmt]}").expanduser().absolute()
    want = expected_digests(run_dir)
    tmp = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    try:
        archived = _write(tmp, run_dir, fmt)
        if not want.keys() - {runs.MANIFEST}:  # no files table: hold it to what was read
            want = archived
        got = read_back(tmp, fmt, run)
        problems = [f"{rel}: missing from the archive" for rel in sorted(want.keys() - got.keys())]
        problems += [
            f"{rel}: not listed in the manifest" for rel in sorted(got.keys() - want.keys())
        ]
        problems += [
            f"{rel}: differs from the manifest's sha256"
            for rel in sorted(want.keys() & got.keys())
            if want[rel] != got[rel]
        ]
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            msg = f"the archive of {run} does not match its manifest: {problems[0]}{more}"
            raise ArchiveError(msg)
        tmp.replace(destination)
    except OSError as exc:
        msg = f"cannot write {destination}: {exc.strerror or exc}"
        raise ArchiveError(msg) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return destination


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup archive",
        description="Pack one run folder (default: latest) into a zip or tar.gz that is "
        "checked, member by member, against the run's manifest before it is put in place.",
    )
    parser.add_argument("run", nargs="?", default=runs.LATEST, metavar="RUN")
    parser.add_argument("--output", metavar="DIR", type=Path, default=Path(runs.DEFAULT_OUTPUT))
    parser.add_argument("--format", choices=sorted(FORMATS), default="zip")
    parser.add_argument("--to", metavar="PATH", type=Path, help="default: <output>/<RUN>.zip")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output = args.output.expanduser().absolute()
    try:
        run = runs.resolve_run(output, args.run)
    except runs.RunNotFound as exc:
        parser.error(str(exc))
    try:
        path = make_archive(output, run, args.format, args.to)
    except ArchiveError as exc:
        sys.stderr.write(f"coda-backup archive: error: {exc}\n")
        return EXIT_FATAL
    sys.stdout.write(f"archive: {path} ({path.stat().st_size:,} bytes), checked\n")
    return EXIT_OK
