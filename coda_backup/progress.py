"""Progress on stderr while the pipeline runs, and the one place that writes to stderr.

Child logs, our own log lines and the progress line share stderr. On a terminal the
progress line is redrawn in place with `\\r`, so every other write first clears it and
the next tick redraws it; elsewhere (CI, cron, a pipe) a plain line is logged every few
seconds instead, because `\\r` only makes a mess in a log file.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
import typing as t

#: Streams whose records the progress line counts (bytes: the relay never decodes).
COUNTED_STREAMS = (b"docs", b"pages", b"page_contents", b"tables", b"rows", b"failures")
TTY_REDRAW_SECONDS = 0.25
PLAIN_LOG_SECONDS = 5.0
SPINNER = "|/-\\"


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Console:
    """Serialises writes to stderr so log lines never tear the progress line."""

    def __init__(self, stream: t.TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._status = ""  # the progress line currently drawn (TTY only)

    def _clear(self) -> None:
        if self._status:
            self.stream.write("\r" + " " * len(self._status) + "\r")
            self._status = ""

    def line(self, text: str) -> None:
        """Write one complete line (a log line), keeping the progress line below it."""
        with self._lock:
            status = self._status
            self._clear()
            self.stream.write(text.rstrip("\n") + "\n")
            if status:
                self.stream.write(status)
                self._status = status
            self.stream.flush()

    def status(self, text: str) -> None:
        """Draw (TTY) the progress line in place; cut to the terminal width so it never wraps."""
        width = shutil.get_terminal_size((100, 20)).columns - 1
        text = text[:width]
        with self._lock:
            self._clear()
            self.stream.write(text)
            self._status = text
            self.stream.flush()

    def end_status(self) -> None:
        with self._lock:
            self._clear()
            self.stream.flush()


class Progress:
    """Counts what the relay saw and shows it; `counts` is written by the relay thread only."""

    def __init__(self, console: Console, *, label: str = "backing up") -> None:
        self.console = console
        self.label = label
        self.counts: dict[bytes, int] = dict.fromkeys(COUNTED_STREAMS, 0)
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def text(self) -> str:
        c = self.counts  # dict.get of a bytes key is atomic under the GIL: no lock needed
        return (
            f"docs {c.get(b'docs', 0):,} · pages {c.get(b'pages', 0):,} "
            f"({c.get(b'page_contents', 0):,} exported) · tables {c.get(b'tables', 0):,} · "
            f"rows {c.get(b'rows', 0):,} · failures {c.get(b'failures', 0):,} · "
            f"{format_elapsed(time.monotonic() - self.started)}"
        )

    def _run(self) -> None:
        tick = 0
        interval = TTY_REDRAW_SECONDS if self.console.is_tty else PLAIN_LOG_SECONDS
        while not self._stop.wait(interval):
            tick += 1
            if self.console.is_tty:
                spin = SPINNER[tick % len(SPINNER)]
                self.console.status(f"{spin} {self.label}: {self.text()}")
            else:
                self.console.line(f"coda-backup: progress: {self.text()}")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.console.end_status()
