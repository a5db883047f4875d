"""coda-backup: one command that backs up a Coda account with `tap-coda | target-files`.

This module is the entry point: `main` picks the command (a backup, or a subcommand in
`SUBCOMMANDS`), sets up logging and signals, and maps the outcome to restic-like exit codes.
The flags are in `coda_backup.flags`, the run in `coda_backup.backup`, and the flags become
the tap's and target's config in `coda_backup.settings`.
"""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import typing as t

from coda_backup import configfile
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
    """`coda-backup [flags]`: one backup run."""
    # Flags over the config file's defaults; exits 2 on a usage error, as parsers do.
    args = configfile.parse_args(build_parser(), argv)
    setup_logging(args.log_level, console)
    return backup(args, console)


#: `coda-backup <name> …`: the snapshot commands, each a module with its own `main(argv)`.
#: A first argument that is none of them (a flag, or nothing) means a backup.
SUBCOMMANDS = {"verify": "coda_backup.verify"}


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
    try:
        return run_backup(argv, console)
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


if __name__ == "__main__":
    sys.exit(main())
