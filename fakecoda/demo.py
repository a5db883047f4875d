"""`make demo`: back up the built-in sample workspace, served by the fake Coda API on loopback.

    python -m fakecoda.demo [extra coda-backup flags, e.g. --incremental]

It starts the fake with `build_demo_workspace()` on 127.0.0.1, runs the real
`coda-backup --output ./demo-backups --api-url <fake>` with a demo token, then prints the
tree it wrote. The sample workspace is generated the same way every time, so a second
`… demo --incremental` skips everything that did not change. Exits with coda-backup's code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from fakecoda import FakeCoda, FakeConfig, build_demo_workspace

DEMO_TOKEN = "demo-token-not-a-secret"  # the fake's token, not a Coda token
OUTPUT = Path("demo-backups")
#: A fixed port when free: API URLs appear in Coda objects (lookup columns), so the same
#: port run after run keeps a second `--incremental` demo free of spurious changes.
DEMO_PORT = 8799
#: Entries shown per folder in the tree; the rest are counted.
MAX_ENTRIES = 8
#: Quick exports and no client-side pacing: the fake has no rate limits switched on.
DEMO_TAP_SETTINGS = {
    "export_poll_interval": 0.1,
    "rate_limit_reads": 0,
    "rate_limit_writes": 0,
    "rate_limit_list_docs": 0,
}


def coda_backup_command() -> list[str]:
    """The installed console script (next to this interpreter or on PATH), else the module."""
    bin_dir = Path(sys.executable).parent
    for candidate in (bin_dir / "coda-backup", bin_dir / "coda-backup.exe"):
        if candidate.is_file():
            return [str(candidate)]
    found = shutil.which("coda-backup")
    return [found] if found else [sys.executable, "-m", "coda_backup"]


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size:.1f} GB"


def tree_lines(folder: Path, prefix: str = "") -> list[str]:
    """A compact `tree`: folders first, at most MAX_ENTRIES per folder, sizes for files."""
    entries = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))
    lines: list[str] = []
    shown = entries[:MAX_ENTRIES]
    for index, entry in enumerate(shown):
        last = index == len(shown) - 1 and len(entries) <= MAX_ENTRIES
        branch, extend = ("└── ", "    ") if last else ("├── ", "│   ")
        if entry.is_symlink():
            lines.append(f"{prefix}{branch}{entry.name} -> {entry.readlink()}")
        elif entry.is_dir():
            lines.append(f"{prefix}{branch}{entry.name}/")
            lines += tree_lines(entry, prefix + extend)
        else:
            lines.append(f"{prefix}{branch}{entry.name}  ({human_size(entry.stat().st_size)})")
    if len(entries) > MAX_ENTRIES:
        lines.append(f"{prefix}└── … {len(entries) - MAX_ENTRIES} more")
    return lines


def print_tree(output: Path) -> None:
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    print(f"\n{output}/")
    for entry in sorted(output.iterdir()):
        if entry.name != latest and not entry.name.startswith("."):
            suffix = f" -> {entry.readlink()}" if entry.is_symlink() else ""
            print(f"  {entry.name}{'/' if entry.is_dir() and not suffix else ''}{suffix}")
    print(f"\n{output / latest}/  (the run just written)")
    for line in tree_lines(output / latest):
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    extra = list(sys.argv[1:] if argv is None else argv)
    fake = FakeCoda(build_demo_workspace(), FakeConfig(token=DEMO_TOKEN), port=DEMO_PORT)
    try:
        fake.start()
    except OSError:  # the port is taken: any free one will do
        fake = FakeCoda(build_demo_workspace(), FakeConfig(token=DEMO_TOKEN)).start()
    with fake:
        print(
            f"Demo: backing up the built-in sample workspace, served by the fake Coda API at "
            f"{fake.url} with a demo token (your CODA_API_TOKEN, if any, is not used).",
            flush=True,
        )
        env = dict(os.environ)
        env["CODA_API_TOKEN"] = DEMO_TOKEN
        env["CODA_BACKUP_TAP_SETTINGS"] = json.dumps(DEMO_TAP_SETTINGS)
        command = [*coda_backup_command(), "--output", str(OUTPUT), "--api-url", fake.url, *extra]
        returncode = subprocess.run(command, env=env, check=False).returncode
    if returncode in (0, 3) and (OUTPUT / "latest.txt").is_file():
        print_tree(OUTPUT)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
