"""tap-coda: the Singer tap that reads a whole Coda account (its streams and their helpers)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_coda import tablestreams
from tap_coda.assets import AssetFetcher, AssetsStream
from tap_coda.client import CodaAuthError
from tap_coda.contentparts import PageContentPartsStream
from tap_coda.doclogic import (
    ControlsStream,
    FoldersStream,
    FormulasStream,
    PermissionsStream,
    SharingStream,
)
from tap_coda.ledger import fingerprint
from tap_coda.pagestreams import PageContentsStream, PagesStream
from tap_coda.pipeline import ExportPipeline, page_bookmarks, rows_bookmarks
from tap_coda.reach import CodaUnreachableError
from tap_coda.readahead import ReadAhead, TableReads
from tap_coda.redaction import token_problem
from tap_coda.responses import json_body
from tap_coda.rows import RowsStream, TableSyncsStream
from tap_coda.services import Services
from tap_coda.settings import (
    CONFIG_SCHEMA,
    DEFAULT_CONCURRENCY,
    TOKEN_ENV,
    Settings,
    SettingsError,
    config_problems,
    unknown_settings,
)
from tap_coda.state import DocStateWriter
from tap_coda.streams import ColumnsStream, DocsStream, FailuresStream, TablesStream
from tap_coda.writer import RowBatchingWriter

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk import Stream

__all__ = ["DEFAULT_CONCURRENCY", "TapCoda"]

_S = t.TypeVar("_S", bound="Stream")

#: Table and column reads ahead, per export worker: short reads, two per table, that
#: decide what a run must fetch; 16 at once read a doc's tables in about one round trip.
READ_AHEAD_PER_WORKER = 2

STREAM_TYPES = (
    # Order matters: children sync in this order, and tables must precede pages so that
    # a page holding a changed table is exported again.
    DocsStream,
    TablesStream,
    ColumnsStream,
    RowsStream,
    TableSyncsStream,
    PagesStream,
    PageContentsStream,
    PageContentPartsStream,
    FormulasStream,
    ControlsStream,
    PermissionsStream,
    SharingStream,
    AssetsStream,
    FoldersStream,
    FailuresStream,
)


class _QuietUnsortedNotice(logging.Filter):
    """singer-sdk warns once per partition that progress is not resumable mid-partition.

    For tap-coda that is by design and harmless: a table's sync token and a page's
    bookmark are committed only once the whole table or page is out. On a real account
    the notice would repeat for every table and page, drowning real warnings.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Stream is assumed to be unsorted")


logging.getLogger("singer_sdk").addFilter(_QuietUnsortedNotice())


#: Streams whose reads of a doc run ahead of the sync (`tap_coda.readahead`).
DOC_LOGIC = (FormulasStream, ControlsStream, PermissionsStream, SharingStream)


def read_ahead(
    streams: t.Mapping[str, Stream],
    settings: Settings,
    workers: int,
    on_table: t.Callable[[str, dict[str, t.Any], list[dict[str, t.Any]]], None] | None,
    *,
    full_export: bool,
) -> ReadAhead:
    """The reads of every selected stream but pages and rows, a window of docs ahead."""
    ahead = ReadAhead(workers=workers)
    tables, columns = streams["tables"], streams["columns"]
    assert isinstance(tables, TablesStream) and isinstance(columns, ColumnsStream)
    if tables.selected or tables.has_selected_descendents:
        reads = TableReads(ahead, tables, columns, keep_table=tables.keep, on_table=on_table)
        ahead.add("tables", reads)
    if settings.dry_run:  # the doc-logic streams read nothing then
        return ahead
    # A run that exports every page is write-bound and its export polls are reads: the doc
    # logic of docs ahead would fill the first read windows and hold the first polls
    # back. There a doc's logic is read from when the sync reaches the doc (it lands
    # while the doc's rows and pages are synced); otherwise the window ahead.
    window = 0 if full_export else None
    for kind in DOC_LOGIC:
        stream = streams[kind.name]
        assert isinstance(stream, DOC_LOGIC)
        if stream.selected:
            ahead.add(stream.name, stream.read, window=window)
    folders = streams["folders"]
    assert isinstance(folders, FoldersStream)
    if folders.selected:
        ahead.once(("folders",), folders.read)
    return ahead


class TapCoda(Tap):
    """Backs up every doc, page, table, view, column and row of a Coda account."""

    name = "tap-coda"
    package_name = "tap-coda"
    # singer-sdk's msgspec writer: several times cheaper per RECORD than stdlib json.
    message_writer_class = RowBatchingWriter
    config_jsonschema = CONFIG_SCHEMA
    # With `table_streams`, discovery reads the account: `--discover` validates the config.
    dynamic_catalog = True

    _rows_bookmarks: dict[tuple[str, str], dict[str, t.Any]]  # set by start_pipeline

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            # singer-sdk logs each cause, then "Config validation failed" last, which is
            # the line a caller such as coda-backup shows: make the last line the cause.
            problems = config_problems(self.config, exc.schema or self.config_jsonschema)
            message = "; ".join(problems) or str(exc)
            raise SettingsError(message, errors=exc.errors, schema=exc.schema) from None
        # Warned, not refused: Meltano and other runners may pass settings of their own.
        for key, nearest in unknown_settings(self.config, self.config_jsonschema):
            hint = f": did you mean {nearest!r}?" if nearest else ""
            self.logger.warning("Unknown setting %r, ignored%s", key, hint)
        # STATE per doc, not per child context (tap_coda.state, issue #17).
        self._state_writer: DocStateWriter = DocStateWriter(
            t.cast("RowBatchingWriter", self.message_writer)
        )

    def discover_streams(self) -> list[Stream]:
        generic = [stream_type(self, self.services) for stream_type in STREAM_TYPES]
        return tablestreams.all_streams(self, self.services, generic)

    # final in singer-sdk, which orders streams by name: `folders` would sync after
    # `failures`, and target-files promotes a run only once `failures` came last.
    def load_streams(self) -> list[Stream]:  # type: ignore[misc]
        """The streams in STREAM_TYPES' order (parents and children as singer-sdk links them)."""
        streams = super().load_streams()
        order: dict[type, float] = {kind: i for i, kind in enumerate(STREAM_TYPES)}
        last = order[FailuresStream] - 0.5  # table streams (issue #15): just before failures
        return sorted(streams, key=lambda stream: order.get(type(stream), last))

    @cached_property
    def settings(self) -> Settings:
        """The settings, read once (singer-sdk validated them and inserted defaults)."""
        return Settings.from_config(self.config)

    @cached_property
    def services(self) -> Services:
        settings, user_agent = self.settings, f"tap-coda/{self.plugin_version}"
        fetch = settings.download_assets and not settings.dry_run
        return Services(
            settings=settings,
            api_token=lambda: self.api_token,
            user_agent=user_agent,
            on_docs_listed=self.start_pipeline,
            assets=AssetFetcher(settings, user_agent) if fetch else None,
        )

    @cached_property
    def api_token(self) -> str:
        return configured_token(self.config)

    def _stream(self, name: str, kind: type[_S]) -> _S:
        stream = self.streams[name]
        assert isinstance(stream, kind)
        return stream

    def check_token(self) -> None:
        """One cheap call first, so a wrong token ends the run with one line."""
        user = json_body(self._stream("docs", DocsStream).call("GET", "/whoami"))
        self.logger.info("Backing up as %s", user.get("name") or "an unnamed user")
        if user.get("scoped"):
            self.logger.warning("This token is restricted: only what it can reach is backed up")

    def start_pipeline(self, doc_ids: list[str]) -> None:
        """Run listings, table reads and exports ahead of the sync (see tap_coda.pipeline)."""
        if self.services.assets is not None and not self._stream("assets", AssetsStream).selected:
            # A catalog without `assets`: no record would carry the bytes, so fetch none.
            self.services.assets.close()
            self.services.assets = None
        if self.services.assets is not None:  # files the last runs kept: not fetched again
            bookmark = (self.state.get("bookmarks") or {}).get("assets") or {}
            self.services.assets.held = dict(bookmark.get("held") or {})
        workers = self.settings.max_concurrency
        if workers <= 1:
            return
        services = self.services
        pages = self._stream("pages", PagesStream)
        contents = self._stream("page_contents", PageContentsStream)
        if not self.settings.dry_run and contents.selected:
            services.pipeline = ExportPipeline(
                pages,
                contents,
                workers=workers,
                formats=self.settings.page_formats,
                marks=page_bookmarks(self.state),
                keep_page=pages.keep,
                export_options=self.settings.export_options,
                refetch=self.settings.refetch,
                on_export=services.found_in_export,
            )
        self._rows_bookmarks = rows_bookmarks(self.state)
        on_table = self._table_read_ahead if services.pipeline else None
        services.read_ahead = read_ahead(
            self.streams,
            self.settings,
            workers * READ_AHEAD_PER_WORKER,
            on_table,
            full_export=services.pipeline is not None and not page_bookmarks(self.state),
        )
        services.read_ahead.start(doc_ids)
        if services.pipeline is not None:
            services.pipeline.start(doc_ids)

    def _table_read_ahead(
        self, doc_id: str, table: dict[str, t.Any], columns: list[dict[str, t.Any]]
    ) -> None:
        """A table read ahead whose rows changed since the last run: start its page's export
        now rather than after its rows are read (PageContentsStream exports that page
        again). Runs on a worker, so it reads a copy of the input bookmarks, never the
        live state. A table seen for the first time needs nothing: its page is new too."""
        previous = self._rows_bookmarks.get((doc_id, table.get("id") or ""))
        pipeline = self.services.pipeline
        if previous is None or pipeline is None:
            return
        tables, rows = self._stream("tables", TablesStream), self._stream("rows", RowsStream)
        context = tables.get_child_context({**table, "doc_id": doc_id}, None)
        page_id = context.get("page_id")
        if page_id and rows.plan(context, previous, fingerprint(columns)).mode != "unchanged":
            pipeline.prefetch(doc_id, page_id)

    # singer-sdk's private signal hook, kept for a correctness need (no public one exists):
    # tests/e2e/test_signals.py::test_a_tap_stopped_by_sigterm_does_not_wait_for_exports_in_flight
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: stop the workers, write the state as singer-sdk does, and leave.

        singer-sdk raises SystemExit wherever the main thread happens to be. With worker
        threads that can strand a lock (a log handler's, taken just before its `try`) and
        the exit then waits for ever on workers blocked on it. So the workers are told to
        stop, the state goes out, and the process ends at once (exit 0, as singer-sdk's).
        """
        self.services.close()
        try:
            self.logger.info("Stopping on signal %d", signum)
            self._state_writer.write_state(self.state)
            self._state_writer.flush()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(0)

    # singer-sdk marks sync_all final; overriding it is the one place that runs before the
    # first stream and after the last, failure or not (the workers must stop either way).
    def sync_all(self) -> None:  # type: ignore[misc]
        self.check_token()
        try:
            super().sync_all()
            # The last STATE, after the `failures` stream: the end marker (RECORDS.md).
            self._state_writer.write_state(self.state)
            self._state_writer.flush(final=True)
        finally:
            self.services.close()

    def run_sync_dry_run(  # type: ignore[misc]  # final in singer-sdk; see sync_all
        self, dry_run_record_limit: int | None = 1, streams: t.Iterable[Stream] | None = None
    ) -> bool:
        """singer-sdk's connection test (and its test suite) syncs streams without
        `sync_all`: its last STATE, and the records held before it, go out here."""
        done = super().run_sync_dry_run(dry_run_record_limit, streams)
        self._state_writer.flush()
        return done

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        try:
            super().invoke(*args, **kwargs)
        except (CodaAuthError, CodaUnreachableError, SettingsError) as exc:
            cls.logger.error("tap-coda: %s", exc)
            sys.exit(1)


def configured_token(config: t.Mapping[str, t.Any]) -> str:
    """The token from `api_token`, env CODA_API_TOKEN or `api_token_file`; CodaAuthError
    (one line, never quoting it) when there is none or it cannot be Coda's."""
    token = config.get("api_token") or os.environ.get(TOKEN_ENV)
    token_file = config.get("api_token_file")
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
    problem = token_problem(str(token).strip())
    if problem:
        msg = f"{problem}: check {TOKEN_ENV} or the token file"
        raise CodaAuthError(msg)
    return str(token)


if __name__ == "__main__":
    TapCoda.cli()
