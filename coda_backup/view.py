"""`coda-backup view [--output DIR] [RUN] [--uri] [--open]`: where a run's index.html is.

target-files writes index.html at the end of every run (`target_files.viewer`); it opens
from disk, offline. This prints its path (default: latest's), or its file:// URI, and
with `--open` hands it to the system's browser. Exit 0, 1 when the run has no index.html
(written before the viewer existed), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path

from coda_backup import runs

EXIT_OK = 0
EXIT_FATAL = 1
INDEX = "index.html"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup view",
        description="Print the path of a run's index.html (default: latest), the page that "
        "opens the whole run in a browser, offline.",
    )
    parser.add_argument("run", nargs="?", default=runs.LATEST, metavar="RUN")
    parser.add_argument("--output", metavar="DIR", type=Path, default=Path(runs.DEFAULT_OUTPUT))
    parser.add_argument("--uri", action="store_true", help="print a file:// URI")
    parser.add_argument("--open", action="store_true", help="open it in the system's browser")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    output = args.output.expanduser().absolute()
    try:
        name = runs.resolve_run(output, args.run)
    except runs.RunNotFound as exc:
        parser.error(str(exc))
    index = output / name / INDEX
    if not index.is_file():
        sys.stderr.write(
            f"coda-backup view: error: {name} has no {INDEX} (written before runs had one)\n"
        )
        return EXIT_FATAL
    sys.stdout.write(f"{index.as_uri() if args.uri else index}\n")
    if args.open:
        webbrowser.open(index.as_uri())
    return EXIT_OK
