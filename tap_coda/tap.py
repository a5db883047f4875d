"""tap-coda: the Singer tap that reads a whole Coda account (settings and stream list)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import typing as t
from functools import cached_property
from pathlib import Path

import requests
from singer_sdk import Tap
from singer_sdk import singerlib as singer
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter

from tap_coda.client import DEFAULT_RATE_LIMITS, CodaAuthError, RateLimits, json_body
from tap_coda.export import export_page
from tap_coda.ledger import RunLedger, fingerprint
from tap_coda.pipeline import ExportPipeline, TableReadAhead, page_bookmarks, rows_bookmarks
from tap_coda.streams import STREAM_TYPES, DocsStream, PagesStream, RowsStream, TablesStream

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk import Stream

    from tap_coda.client import CodaStream

#: Exports in flight. Their starts are paced at 10 per 6 s, so more workers only reorder
#: them, and the sync takes pages in order: 16 made a full backup 7 % slower than 8.
DEFAULT_CONCURRENCY = 8
#: Table and column reads ahead, per export worker: short reads, two per table, that
#: decide what a run must fetch; 16 at once read a doc's tables in about one round trip.
READ_AHEAD_PER_WORKER = 2


class _QuietUnsortedNotice(logging.Filter):
    """singer-sdk warns once per partition that progress is not resumable mid-partition.

    For tap-coda that is by design and harmless: a table's sync token and a page's
    bookmark are committed only once the whole table or page is out. On a real account
    the notice would repeat for every table and page, drowning real warnings.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Stream is assumed to be unsorted")


logging.getLogger("singer_sdk").addFilter(_QuietUnsortedNotice())
TOKEN_ENV = "CODA_API_TOKEN"  # noqa: S105 - a variable name, not a secret


class _RowBatchingWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer, sending RECORDs in 64 KiB writes.

    A write per RECORD is a write(2) per row in the tap and a wake-up and a read(2) per
    row in the target; stdout's own buffer does not help where PYTHONUNBUFFERED is set,
    as in many containers. RECORDs collect here; any other message (SCHEMA, STATE, …)
    sends what is held, then itself, and flushes, so a STATE never overtakes a record.
    """

    LIMIT = 1 << 16

    def __init__(self) -> None:
        super().__init__()
        self._held = bytearray()
        atexit.register(self._send_quietly)  # records held when a run dies still go out

    def write_message(self, message: singer.Message) -> None:
        self._held += self.format_message(message)
        if type(message) is not singer.RecordMessage or len(self._held) >= self.LIMIT:
            self.send()

    def send(self) -> None:
        """Write what is held to stdout (resolved now: tests redirect it) and flush."""
        out, data = sys.stdout.buffer, bytes(self._held)
        self._held.clear()
        while data:  # an unbuffered stdout may take part of a large write
            written = out.write(data)
            if not written:
                raise BlockingIOError("stdout took no bytes")
            data = data[written:]
        out.flush()

    def _send_quietly(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send()


class TapCoda(Tap):
    """Backs up every doc, page, table, view, column and row of a Coda account."""

    name = "tap-coda"
    package_name = "tap-coda"
    # singer-sdk's msgspec writer: several times cheaper per RECORD than stdlib json.
    message_writer_class = _RowBatchingWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_token",
            th.StringType,
            secret=True,
            title="API token",
            description=f"Coda API token. If absent: env {TOKEN_ENV}, then api_token_file.",
        ),
        th.Property(
            "api_token_file",
            th.StringType,
            title="API token file",
            description="File holding the token (surrounding whitespace is stripped).",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://coda.io/apis/v1",
            description="Base URL of the Coda API (tests point it at the fake).",
        ),
        th.Property(
            "include_shared",
            th.BooleanType,
            default=False,
            description="Also back up docs shared with you (false sends isOwner=true).",
        ),
        th.Property(
            "workspace_id",
            th.StringType,
            description="Only docs of this workspace (sent as workspaceId).",
        ),
        th.Property(
            "doc_ids",
            th.ArrayType(th.StringType),
            description="Back up exactly these docs, e.g. docs never opened "
            "(which GET /docs does not list).",
        ),
        th.Property(
            "skip_hidden_pages",
            th.BooleanType,
            default=False,
            description="Drop pages with isEffectivelyHidden (hidden, or under a hidden page).",
        ),
        th.Property(
            "include_views",
            th.BooleanType,
            default=True,
            description="False: emit only base tables (tableType table), no views.",
        ),
        th.Property(
            "page_formats",
            th.ArrayType(th.StringType),
            default=["markdown"],
            description="Page exports to run: markdown and/or html.",
        ),
        th.Property(
            "value_format",
            th.StringType,
            default="simpleWithArrays",
            allowed_values=["simpleWithArrays", "simple", "rich"],
            description="Row valueFormat (simple joins multi-values into one string).",
        ),
        th.Property(
            "strict_latest",
            th.BooleanType,
            default=False,
            description="Send X-Coda-Doc-Version: latest; a stale doc is retried, "
            "then recorded as a failure.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=6,
            description="Retries for 429, 5xx, connection errors and timeouts.",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=1.0,
            description="First retry wait; it doubles per retry "
            "(jittered between half and all of it, capped at 120 s).",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            description="Seconds one request may wait to connect or for the next bytes of "
            "its answer before it counts as a timeout (retried).",
        ),
        th.Property(
            "export_timeout",
            th.NumberType,
            default=120,
            description="Deadline in seconds for one page export.",
        ),
        th.Property(
            "export_poll_interval",
            th.NumberType,
            default=1.0,
            description="Seconds before the first export poll; later polls scale with it.",
        ),
        th.Property(
            "rows_full_refresh_days",
            th.IntegerType,
            default=7,
            description="Read every table in full at least this often (0: never), "
            "catching what sync-token deltas cannot see.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="List, decide, fetch nothing: page_contents records carry no content "
            "(only what would be exported and why) and table_syncs say how each table's rows "
            "would be read. No export, no row request.",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=DEFAULT_CONCURRENCY,
            description="Page exports in flight at once; twice as many table and column "
            "reads run ahead (1: no work ahead of the sync). Whatever the value, pacing "
            "keeps Coda's limits and the output is the same.",
        ),
        th.Property(
            "rate_limit_reads",
            th.IntegerType,
            default=DEFAULT_RATE_LIMITS["read"],
            description="Read requests per 6 s (Coda: 100). 0 disables pacing.",
        ),
        th.Property(
            "rate_limit_writes",
            th.IntegerType,
            default=DEFAULT_RATE_LIMITS["write"],
            description="Write requests (export starts) per 6 s (Coda: 10).",
        ),
        th.Property(
            "rate_limit_list_docs",
            th.IntegerType,
            default=DEFAULT_RATE_LIMITS["list_docs"],
            description="GET /docs requests per 6 s (Coda: 4).",
        ),
    ).to_dict()

    pipeline: ExportPipeline | None = None
    read_ahead: TableReadAhead | None = None
    _rows_bookmarks: dict[tuple[str, str], dict]  # set by start_pipeline

    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @cached_property
    def ledger(self) -> RunLedger:
        return RunLedger()

    @cached_property
    def rate_limits(self) -> RateLimits:
        return RateLimits(
            {
                "read": int(self.config.get("rate_limit_reads", DEFAULT_RATE_LIMITS["read"])),
                "write": int(self.config.get("rate_limit_writes", DEFAULT_RATE_LIMITS["write"])),
                "list_docs": int(
                    self.config.get("rate_limit_list_docs", DEFAULT_RATE_LIMITS["list_docs"])
                ),
            }
        )

    @cached_property
    def blob_session(self) -> requests.Session:
        """For signed download links: a session that never carries the token."""
        return requests.Session()

    @cached_property
    def api_token(self) -> str:
        token = self.config.get("api_token") or os.environ.get(TOKEN_ENV)
        token_file = self.config.get("api_token_file")
        if not token and token_file:
            try:
                token = Path(token_file).expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                msg = f"cannot read the token file {token_file}: {exc.strerror}"
                raise CodaAuthError(msg) from None
        if not token:
            msg = (
                f"no Coda API token: set {TOKEN_ENV}, or give a token file "
                "(--token-file / api_token_file)"
            )
            raise CodaAuthError(msg)
        return token

    def check_token(self) -> None:
        """One cheap call first, so a wrong token ends the run with one line."""
        docs = self.streams["docs"]
        assert isinstance(docs, DocsStream)
        user = json_body(docs.call("GET", "/whoami"))
        self.logger.info("Backing up as %s", user.get("name") or "an unnamed user")
        if user.get("scoped"):
            self.logger.warning("This token is restricted: only what it can reach is backed up")

    def start_pipeline(self, doc_ids: list[str]) -> None:
        """Run listings, table reads and exports ahead of the sync (see tap_coda.pipeline)."""
        workers = int(self.config.get("max_concurrency", DEFAULT_CONCURRENCY))
        if workers <= 1:
            return
        tables, pages = self.streams["tables"], self.streams["pages"]
        assert isinstance(tables, TablesStream)
        assert isinstance(pages, PagesStream)
        contents = self.streams["page_contents"]
        if not self.config.get("dry_run") and contents.selected:
            self.pipeline = ExportPipeline(
                pages,
                t.cast("CodaStream", contents),
                workers=workers,
                formats=self.config.get("page_formats", ["markdown"]),
                marks=page_bookmarks(self.state),
                keep_page=pages.keep,
                export_options=self.export_options,
            )
        self._rows_bookmarks = rows_bookmarks(self.state)
        if tables.selected or tables.has_selected_descendents:
            self.read_ahead = TableReadAhead(
                tables,
                t.cast("CodaStream", self.streams["columns"]),
                workers=workers * READ_AHEAD_PER_WORKER,
                keep_table=tables.keep,
                on_table=self._table_read_ahead if self.pipeline else None,
            )
            self.read_ahead.start(doc_ids)
        if self.pipeline is not None:
            self.pipeline.start(doc_ids)

    def _table_read_ahead(self, doc_id: str, table: dict, columns: list[dict]) -> None:
        """A table read ahead whose rows changed since the last run: start its page's export
        now rather than after its rows are read (PageContentsStream exports that page
        again). Runs on a worker, so it reads a copy of the input bookmarks, never the
        live state. A table seen for the first time needs nothing: its page is new too."""
        previous = self._rows_bookmarks.get((doc_id, table.get("id")))
        if previous is None or self.pipeline is None:
            return
        tables, rows = self.streams["tables"], self.streams["rows"]
        assert isinstance(tables, TablesStream)
        assert isinstance(rows, RowsStream)
        context = tables.get_child_context({**table, "doc_id": doc_id}, None)
        page_id = context.get("page_id")
        if page_id and rows.plan(context, previous, fingerprint(columns)) != "unchanged":
            self.pipeline.prefetch(doc_id, page_id)

    @property
    def export_options(self) -> dict[str, float]:
        poll = float(self.config.get("export_poll_interval", 1.0))
        timeout = float(self.config.get("export_timeout", 120))
        return {"timeout_s": timeout, "first_wait_s": poll, "poll_scale": poll}

    def export(self, doc_id: str, page_id: str, output_format: str) -> str:
        """One page's export: from the pipeline when it runs, else right here."""
        if self.pipeline is not None:
            return self.pipeline.export((doc_id, page_id, output_format))
        contents = t.cast("CodaStream", self.streams["page_contents"])
        return export_page(contents, doc_id, page_id, output_format, **self.export_options)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: stop the workers, write the state as singer-sdk does, and leave.

        singer-sdk raises SystemExit wherever the main thread happens to be. With worker
        threads that can strand a lock (a log handler's, taken just before its `try`) and
        the exit then waits for ever on workers blocked on it. So the workers are told to
        stop, the state goes out, and the process ends at once (exit 0, as singer-sdk's).
        """
        self._stop_helpers()
        try:
            self.logger.info("Stopping on signal %d", signum)
            self._state_writer.write_state(self.state)
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(0)

    def sync_all(self) -> None:
        self.check_token()
        try:
            super().sync_all()
        finally:
            self._stop_helpers()

    def _stop_helpers(self) -> None:
        for helper in (self.pipeline, self.read_ahead):
            if helper is not None:
                helper.close()

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        try:
            super().invoke(*args, **kwargs)
        except CodaAuthError as exc:
            cls.logger.error("tap-coda: %s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TapCoda.cli()
