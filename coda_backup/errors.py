"""coda-backup's exit codes and the exceptions that map to them (restic's codes)."""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3


class FatalError(Exception):
    """Nothing usable can be produced; the message is the one line to show (exit 1)."""


class UsageError(Exception):
    """A bad value argparse could not check (an environment variable, a config file): exit 2."""


class Interrupted(Exception):  # noqa: N818 - it is a signal, not an error
    """SIGINT or SIGTERM reached coda-backup: exit 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
