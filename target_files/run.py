"""A run's life cycle: started when the input begins, finished (tree built, promoted) or
abandoned, and the one line (and exit code) each way of ending gets.

DESIGN.md "Target: configuration and tree": a run is promoted only when its input ended
cleanly; anything else drops its partial folder and leaves `latest` and earlier runs as
they were, writes no state and exits non-zero with one line saying why.
"""

from __future__ import annotations

import logging
import os
import typing as t
from pathlib import Path

from singer_sdk.exceptions import (
    InvalidJSONSchema,
    InvalidRecord,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_files import assemble, fsutil, outcomes, report
from target_files.previous import PreviousRun
from target_files.snapshot import RunFolder, iso, utc_now
from target_files.staging import Staging
from target_files.staging import problems as staging_problems
from target_files.tree import Tree

if t.TYPE_CHECKING:
    import datetime

    from target_files.reader import TrackingReader

logger = logging.getLogger("target-files")

#: The stream tap-coda syncs after every doc; a STATE after it proves the input is whole.
CLOSING_STREAM = "failures"
#: Input problems that deserve one log line, not a traceback.
INPUT_ERRORS = (
    UnicodeDecodeError,
    InvalidInputLine,
    InvalidRecord,
    InvalidJSONSchema,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
ABANDONED = "Run abandoned, latest unchanged, no state written"


def tap_finished(reader: TrackingReader) -> bool:
    """tap-coda's end marker: its last message is a STATE and its last schema `failures`
    (the tap sends a final STATE after that stream, even one that says nothing new)."""
    return reader.last_schema_stream == CLOSING_STREAM and reader.last_type == "STATE"


class RunNotPromotedError(RuntimeError):
    """The run ended without being promoted; the message is the one line users see."""


class TerminationRequestedError(KeyboardInterrupt):
    """SIGINT or SIGTERM: stop reading, abandon the run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The run of this process (one target process builds one run). The entry point's error
#: handling needs it after singer-sdk's `Target.invoke` has let go of the target.
_current: Run | None = None


def current() -> Run | None:
    return _current


class Run:
    """One run: its folder, its staging area and the run it builds on. Creating it
    claims and locks the partial folder (and removes leftovers of dead runs)."""

    def __init__(self, config: t.Mapping[str, t.Any], started_at: datetime.datetime) -> None:
        global _current  # noqa: PLW0603 (see `_current`)
        self.perms = fsutil.Perms(
            private=bool(config.get("private", True)),
            fsync=bool(config.get("fsync", True)),
            hardlinks=bool(config.get("hardlinks", True)),
        )
        self.started_at = started_at
        self.output_dir = Path(str(config.get("output_dir") or "coda-backups")).expanduser()
        self.folder = RunFolder(self.output_dir, config.get("run_id"), started_at, self.perms)
        verify = bool(config.get("verify_carried", False))
        self.previous = PreviousRun.load(self.output_dir, verify=verify)
        #: files of latest that failed the carry check (their bookmarks are dropped)
        self.damaged: list[dict[str, t.Any]] = []
        self.rows_json = bool(config.get("rows_json", False))
        parent = config.get("parent_pid")
        self.parent_pid = int(parent) if parent else None
        self.staging = Staging(self.folder.staging_dir, self.perms, rows_json=self.rows_json)
        _current = self
        logger.info(
            "Run %s started in %s (builds on %s)",
            self.folder.run_id,
            self.folder.partial,
            self.previous.run_id if self.previous else "no earlier run",
        )

    def check_input(self, reader: TrackingReader, *, require_complete: bool) -> None:
        """Refuse input that ended early (raises RunNotPromotedError)."""
        self.staging.close()
        problems = staging_problems(self.staging)
        coda_input = "docs" in reader.schema_streams
        if require_complete and coda_input and not tap_finished(reader):
            got = f"{reader.lines} lines, the last a {reader.last_type or 'nothing'}"
            problems.insert(
                0,
                f"tap-coda never finished: no STATE after its closing `{CLOSING_STREAM}` "
                f"stream ({got}, last schema `{reader.last_schema_stream}`; tap stopped?)",
            )
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RunNotPromotedError(f"input ended early: {problems[0]}{more}")

    def finish(self, reader: TrackingReader) -> dict[str, t.Any]:
        """Build the tree, write manifest and summary, promote; return the summary."""
        tree = Tree(
            root=self.folder.partial,
            run_id=self.folder.run_id,
            perms=self.perms,
            staging=self.staging,
            prev=self.previous,
            failed=outcomes.index_failures(self.staging.failures),
            # A stream the tap never announced (deselected in the catalog) is not expected.
            expect_pages="page_contents" in reader.schema_streams,
            expect_rows="rows" in reader.schema_streams,
            rows_json=self.rows_json,
            announced=frozenset(reader.schema_streams),
        )
        built = assemble.build(tree)
        summary = report.write(
            tree, built, started_at=iso(self.started_at), finished_at=iso(utc_now())
        )
        self.damaged = summary["damaged_carried"]
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            # Checked last, just before the rename: the run must still be wanted.
            msg = f"its parent process {self.parent_pid} is gone (killed?)"
            raise RunNotPromotedError(msg)
        final = self.folder.promote()
        _log_summary(self.folder.run_id, final, summary)
        return summary

    @property
    def promoted(self) -> bool:
        return self.folder.promoted

    def abandon(self) -> None:
        """Drop the unfinished run (idempotent); `latest` and earlier runs stay."""
        if not self.folder.promoted:
            self.staging.abandon()
            self.folder.abandon()


def _log_summary(run_id: str, final: Path, s: t.Mapping[str, t.Any]) -> None:
    logger.info(
        "Run %s is in place (%s): %d docs, %d pages exported, %d unchanged, "
        "%d tables and %d views exported, %d unchanged, %d rows written, %d failures",
        run_id,
        final,
        s["docs_processed"],
        s["pages_exported"],
        s["pages_skipped_unchanged"],
        s["tables_exported"],
        s["views_exported"],
        s["tables_skipped_unchanged"],
        s["rows_written"],
        len(s["failures"]),
    )


def ending(exc: BaseException, run: Run | None, output_dir: str) -> tuple[str, int] | None:
    """The one line and exit code for a run that ended with `exc`; None: a crash (the
    traceback is worth seeing)."""
    if isinstance(exc, TerminationRequestedError):
        msg = f"Stopped by signal {exc.signum}: run abandoned, latest unchanged, no state written"
        return msg, 128 + exc.signum
    if isinstance(exc, RunNotPromotedError):
        return f"Run not promoted, latest unchanged, no state written: {exc}", 1
    if isinstance(exc, INPUT_ERRORS):
        reason = exc.args[0] if exc.args else type(exc).__name__
        return f"{ABANDONED}: {reason}", 1
    if isinstance(exc, OSError):
        # A full disk, a read-only or vanished output folder: one line, no traceback.
        where = "stdout" if isinstance(exc, BrokenPipeError) else exc.filename or output_dir
        done = ABANDONED
        if run is not None and run.promoted:
            done = "Run in place, but no state written"  # stdout went away at the end
        return f"{done}: {exc.strerror or exc} ({where})", 1
    return None
