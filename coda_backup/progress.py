"""Progress on stderr while the pipeline runs, and the one place that writes to stderr.

Child logs, our own log lines and the progress display share stderr. On a terminal the
display is a tqdm bar redrawn in place, so every other write first clears it and then
redraws it; elsewhere (CI, cron, a pipe) a plain line is logged every few seconds
instead, because a redrawn bar only makes a mess in a log file. The numbers themselves
come from `coda_backup.totals`, one snapshot per redraw.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
import typing as t

from tqdm import tqdm

from coda_backup.totals import Snapshot, Totals, describe, snapshot
from tap_coda.workers import WorkerThread

#: Streams whose records the progress display counts (bytes: the relay never decodes).
COUNTED_STREAMS = (b"docs", b"pages", b"page_contents", b"tables", b"rows", b"failures")
TTY_REDRAW_SECONDS = 0.25
PLAIN_LOG_SECONDS = 10.0  # in a log: enough to follow a long run, little noise in a short one
BAR_STEPS = 1000
#: The label, the bar, and the counts as the bar's description (tqdm puts a comma before
#: a postfix).
BAR_FORMAT = "{label}: {percentage:3.0f}%|{bar:12}| {desc}"

tqdm.monitor_interval = 0  # no monitor thread: the bar is redrawn by Progress only


def _width() -> int:
    """The terminal's width less one, so the bar never wraps (100 when it says 0 or nothing)."""
    return shutil.get_terminal_size((100, 20)).columns - 1


class Console:
    """Serialises writes to stderr so log lines never tear the progress bar."""

    def __init__(self, stream: t.TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.lock = threading.Lock()
        self.bar: tqdm[t.NoReturn] | None = None  # drawn below the log lines (TTY only)

    def line(self, text: str) -> None:
        """Write one complete line (a log line), keeping the progress bar below it."""
        with self.lock:
            if self.bar is not None:
                self.bar.clear()
            self.stream.write(text.rstrip("\n") + "\n")
            if self.bar is not None:
                self.bar.refresh()
            self.stream.flush()


class Progress:
    """Counts what the relay saw, takes in the tap's announced totals, and shows both.

    `counts` is written by the relay thread only (dict.get of a bytes key is atomic under
    the GIL); the totals are written by the tap's log thread and the relay, under a lock.
    """

    def __init__(
        self,
        console: Console,
        *,
        label: str = "backing up",
        limits: t.Mapping[str, float] | None = None,
    ) -> None:
        self.console = console
        self.label = label
        self.limits = dict(limits) if limits else None
        self.counts: dict[bytes, int] = dict.fromkeys(COUNTED_STREAMS, 0)
        self.totals = Totals()
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- inputs -----------------------------------------------------------------------

    def tap_event(self, event: t.Mapping[str, t.Any]) -> None:
        """One `tap_coda.progress` announcement (see coda_backup.totals)."""
        with self._lock:
            self.totals.apply(event)

    def table_synced(self, line: bytes) -> None:
        """A `table_syncs` RECORD went by: that table's rows are all out."""
        try:
            record = json.loads(line)["record"]
            doc, table = str(record["doc_id"]), str(record["table_id"])
            rows = int(record.get("rows_emitted") or 0)
        except (ValueError, KeyError, TypeError):
            return  # a display hint only
        with self._lock:
            self.totals.table_synced(doc, table, rows)

    # -- output -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            return snapshot(
                self.counts,
                self.totals,
                elapsed_s=time.monotonic() - self.started,
                limits=self.limits,
            )

    def text(self) -> str:
        return describe(self.snapshot())

    def _draw(self, bar: tqdm[t.NoReturn]) -> None:
        snap = self.snapshot()
        with self.console.lock:
            bar.ncols = _width()
            bar.n = round(min(snap.fraction or 0.0, 1.0) * BAR_STEPS)
            bar.set_description_str(describe(snap, percent=False), refresh=False)
            bar.refresh()

    def _run(self) -> None:
        if not self.console.is_tty:
            while not self._stop.wait(PLAIN_LOG_SECONDS):
                if self.totals.docs is not None:  # before the docs are listed: nothing to say
                    self.console.line(f"coda-backup: progress: {self.text()}")
            return
        bar = tqdm(
            total=BAR_STEPS,
            file=self.console.stream,
            bar_format=BAR_FORMAT.replace("{label}", self.label),
            ncols=_width(),
            nrows=20,  # tqdm hides a bar below the screen's height, which a bare pty says is 0
            leave=False,
            mininterval=0,
            miniters=0,
        )
        with self.console.lock:
            self.console.bar = bar
        try:
            while not self._stop.wait(TTY_REDRAW_SECONDS):
                self._draw(bar)
        finally:
            with self.console.lock:
                self.console.bar = None
                bar.close()  # leave=False: the bar is wiped
                self.console.stream.flush()

    def report_final(self) -> None:
        """In a log (not a terminal), one last line with the final numbers of a run that
        went through: the totals it had to do next to what it did."""
        if not self.console.is_tty:
            self.console.line(f"coda-backup: progress: finished: {self.text()}")

    def start(self) -> None:
        self._thread = WorkerThread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
