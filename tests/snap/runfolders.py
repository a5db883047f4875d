"""Run folders made by hand, in the shape target-files writes them, for the snapshot
commands' tests: files, then a manifest whose `files` table lists each with its sha256,
size and mtime_ns (the contract the target writes)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import script


def files_table(run_dir: Path) -> dict[str, dict[str, t.Any]]:
    table = {}
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir).as_posix()
        if path.is_file() and rel != "manifest.json":
            st = path.stat()
            table[rel] = {
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
            }
    return table


def write_manifest(run_dir: Path, **extra: t.Any) -> dict[str, t.Any]:
    manifest = {"run_id": run_dir.name, "docs": [], **extra, "files": files_table(run_dir)}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


def make_run(
    output: Path,
    name: str,
    files: t.Mapping[str, bytes],
    *,
    link_from: str | None = None,
    latest: bool = True,
) -> Path:
    """A run folder holding `files`; those equal to the same path in run `link_from` are
    hard links to it (as carry-forward makes them). `latest` points at it."""
    run_dir = output / name
    for rel, content in {"summary.json": b'{"status": "complete"}', **files}.items():
        path = run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        old = output / link_from / rel if link_from else None
        if old is not None and old.is_file() and old.read_bytes() == content:
            os.link(old, path)
        else:
            path.write_bytes(content)
    write_manifest(run_dir)
    if latest:
        (output / "latest.txt").write_text(name + "\n", encoding="utf-8")
    return run_dir


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> t.Any:
        return json.loads(self.stdout)


def coda_backup(*args: str, timeout: float = 120) -> Ran:
    """The real `coda-backup` console script (no token: these commands need none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODA_", "TAP_CODA_"))}
    proc = subprocess.run(
        [script("coda-backup"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=timeout,
        check=False,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)
