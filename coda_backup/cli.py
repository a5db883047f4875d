"""coda-backup: one command that backs up a Coda account with `tap-coda | target-files`.

This module is the entry point: `main` picks the command (a backup, or a subcommand in
`SUBCOMMANDS`), sets up logging and signals, and maps the outcome to restic-like exit codes.
The flags are in `coda_backup.flags`, the run in `coda_backup.backup`, and the flags become
the tap's and target's config in `coda_backup.settings`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import typing as t

from coda_backup import configfile, ping
from coda_backup.backup import backup
from coda_backup.errors import (
    EXIT_FATAL,
    EXIT_USAGE,
    FatalError,
    Interrupted,
    UsageError,
)
from coda_backup.flags import build_parser
from coda_backup.pipeline import PipelineError
from coda_backup.progress import Console

LOGGER = logging.getLogger("coda-backup")


def _install_signal_handlers() -> None:
    fired: list[int] = []

    def handler(signum: int, _frame: t.Any) -> None:
        if fired:
            return  # already stopping the children; a second Ctrl-C must not cut that short
        fired.append(signum)
        raise Interrupted(signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def setup_logging(level: str, console: Console) -> None:
    """coda-backup's own log lines go through the console, below the progress line."""

    class ConsoleHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            console.line(f"coda-backup: {record.levelname.lower()}: {record.getMessage()}")

    LOGGER.handlers[:] = [ConsoleHandler()]
    LOGGER.setLevel(level.upper())
    LOGGER.propagate = False


def run_backup(argv: list[str], console: Console) -> int:
    """`coda-backup [flags]`: one backup run, its monitor pinged at the start and the end."""
    try:  # flags over the config file's defaults; argparse exits 2 on a usage error
        args = configfile.parse_args(build_parser(), argv)
    except UsageError as exc:
        console.line(f"coda-backup: error: {exc}")
        return EXIT_USAGE
    setup_logging(args.log_level, console)
    watched = args.ping_url if not args.dry_run else None
    ping.ping(watched, "start")
    code = _outcome(args, console)
    ping.ping(watched, str(code))
    return code


def _outcome(args: argparse.Namespace, console: Console) -> int:
    """The backup, its failures as one line and an exit code."""
    try:
        return backup(args, console)
    except UsageError as exc:
        console.line(f"coda-backup: error: {exc}")
        return EXIT_USAGE
    except (FatalError, PipelineError) as exc:
        console.line(f"coda-backup: error: {exc}")
        return EXIT_FATAL
    except Interrupted as exc:
        console.line(
            f"coda-backup: interrupted ({exc}): tap-coda and target-files stopped; "
            "earlier runs and latest are untouched"
        )
        return 128 + exc.signum


#: `coda-backup <name> …`: the snapshot commands, each a module with its own `main(argv)`.
#: A first argument that is none of them (a flag, or nothing) means a backup.
SUBCOMMANDS = {
    "archive": "coda_backup.archive",
    "verify": "coda_backup.verify",
    "prune": "coda_backup.prune",
    "diff": "coda_backup.diff",
    "restore": "coda_backup.restore.cli",
    "view": "coda_backup.view",
}


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")  # Coda names are Unicode
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        command: t.Any = importlib.import_module(SUBCOMMANDS[argv[0]])
        return int(command.main(argv[1:]))
    console = Console()
    _install_signal_handlers()
    return run_backup(argv, console)


if __name__ == "__main__":
    sys.exit(main())
