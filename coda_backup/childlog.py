"""One child's stderr (tap-coda's or target-files'), shown filtered, and why it failed."""

from __future__ import annotations

import json
import logging
import re
import threading
import typing as t
from collections import deque

from tap_coda.workers import WorkerThread

if t.TYPE_CHECKING:
    from coda_backup.progress import Console

#: singer-sdk's console log format: "2026-01-01 10:00:00,000 | INFO     | name | message".
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]\d+ \| (?P<level>[A-Z]+)\s*\| "
    r"(?P<logger>[^|]*?)\s*\| (?P<message>.*)$"
)
#: tap-coda's totals for the progress display (tap_coda/progress.py).
PROGRESS_LOGGER = "tap_coda.progress"
#: How long to wait for a child's stderr to be read to its end.
JOIN_SECONDS = 10.0


class ChildLog:
    """Pumps one child's stderr to the console, filtered, and remembers why it failed.

    Levels are filtered by the child itself (LOGLEVEL). Here, singer-sdk's METRIC lines are
    dropped unless debugging (one per request: noise for a backup's user), and ERROR lines
    and anything that is not a log line (tracebacks) are held back: when the child fails,
    coda-backup prints one clear line instead of a traceback; when it succeeds they are
    shown at the end. `--log-level debug` shows everything as it comes.
    """

    def __init__(
        self,
        name: str,
        console: Console,
        *,
        debug: bool,
        show_from: str = "debug",
        on_progress: t.Callable[[dict[str, t.Any]], None] | None = None,
    ) -> None:
        self.name = name
        self.console = console
        self.debug = debug
        #: lines below this level are dropped: the tap runs at INFO at least, so that its
        #: progress announcements come through, whatever level the user asked for
        self.show_from = logging.getLevelName(show_from.upper())
        self.on_progress = on_progress
        self.held: deque[str] = deque(maxlen=500)
        self.last_error: str | None = None
        self.last_other: str | None = None
        self._thread: threading.Thread | None = None

    def start(self, stream: t.IO[bytes]) -> None:
        self._thread = WorkerThread(
            target=self._pump, args=(stream,), name=f"{self.name}-stderr", daemon=True
        )
        self._thread.start()

    def _pump(self, stream: t.IO[bytes]) -> None:
        for raw in stream:
            self.handle(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def handle(self, line: str) -> None:
        if not line.strip():
            return
        match = LOG_LINE.match(line)
        if match and match["level"] in ("ERROR", "CRITICAL"):
            self.last_error = match["message"].strip()
        elif not match:
            self.last_other = line.strip()
        if match and match["logger"] == PROGRESS_LOGGER and self.on_progress is not None:
            self._progress(match["message"])
            if not self.debug:
                return
        if self.debug:
            self.console.line(line)
        elif match and (
            match["logger"].startswith("singer_sdk.metrics") or self._below_shown(match["level"])
        ):
            return
        elif match and match["level"] not in ("ERROR", "CRITICAL"):
            self.console.line(line)
        else:
            self.held.append(line)

    def _below_shown(self, level: str) -> bool:
        number = logging.getLevelName(level)
        return isinstance(number, int) and number < self.show_from

    def _progress(self, message: str) -> None:
        try:
            event = json.loads(message)
        except ValueError:
            return
        if isinstance(event, dict) and self.on_progress is not None:
            self.on_progress(event)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=JOIN_SECONDS)

    def flush_held(self) -> None:
        while self.held:
            self.console.line(self.held.popleft())

    def reason(self, returncode: int) -> str:
        """The one line saying why this child failed."""
        text = self.last_error or self.last_other
        if not text:
            return f"{self.name} exited with code {returncode}"
        prefix = f"{self.name}: "
        text = text[len(prefix) :] if text.startswith(prefix) else text
        if any(line.startswith("Traceback") for line in self.held):
            text += " (--log-level debug shows the traceback)"
        return text
