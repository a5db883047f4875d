"""target-files: turns tap-coda's records into a browsable, incremental backup tree.

```
target-files --config config.json < singer-messages
```

Settings (also as env vars `TARGET_FILES_<KEY>` with `--config ENV`):

| key | default | meaning |
|---|---|---|
| `output_dir` | `coda-backups` | root of all runs (created if missing) |
| `run_id` | UTC start | this run's folder, e.g. `2026-03-07T101530Z`; `-2`… if taken |
| `private` | `true` | run folders 0700 and files 0600 (else the umask decides) |
| `hardlinks` | `true` | carry unchanged files forward from `latest` as hard links (else copies) |
| `fsync` | `true` | flush every file to disk before the run is promoted |
| `require_complete_input` | `true` | tap-coda input: promote only if `failures` came last |

Plus singer-sdk's own target settings (`validate_records`, `add_record_metadata`,
`stream_maps`, `batch_config`, …).

How a run ends (DESIGN.md "Target: configuration and tree", "Incremental snapshot"):

- content is staged by id in a hidden `.partial-<run_id>/` folder while records stream in;
  when the input ends cleanly the tree is assembled, `manifest.json` and `summary.json`
  written, the folder renamed into place and `latest` / `latest.txt` pointed at it;
- the Singer STATE is held back until then: singer-sdk writes state whenever it drains its
  sinks (end of input, every 5 minutes, on SIGTERM); here every such write only remembers
  the state, and the latest one is written to stdout *after* the promotion. Meltano and
  coda-backup therefore never store bookmarks for data that did not land;
- input that ends badly (malformed or truncated line, a child whose parent record never
  came, no `failures` stream at the end of a tap-coda run, an exception, SIGINT/SIGTERM)
  is abandoned: its partial folder is removed, `latest` and earlier runs are untouched,
  no state is written, the exit code is non-zero and the reason is one log line.
- failure records are data: a run that recorded some is promoted (`status: partial`) and
  exits 0, as DESIGN.md asks of both Singer programs.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import typing as t
from pathlib import Path

from singer_sdk import typing as th
from singer_sdk.exceptions import (
    InvalidJSONSchema,
    InvalidRecord,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.io_base import SingerReader
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.plugin_base import _ConfigInput
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.target_base import Target

from target_files import assemble, fsutil, jsonio, outcomes, report, sinks
from target_files.previous import PreviousRun
from target_files.snapshot import (
    PromotionError,
    RunFolder,
    iso,
    run_id_problem,
    utc_now,
)
from target_files.staging import Staging
from target_files.tree import Tree

if t.TYPE_CHECKING:
    import datetime
    from types import FrameType

    from singer_sdk.sinks import Sink

logger = logging.getLogger("target-files")

#: The stream tap-coda syncs after every doc: seeing it last proves the input is whole.
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


class RunNotPromotedError(RuntimeError):
    """The run ended without being promoted; the message is the one line users see."""


class TerminationRequestedError(KeyboardInterrupt):
    """SIGINT or SIGTERM: stop reading, abandon the run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class TrackingReader(SingerReader):
    """singer-sdk's reader, plus what the end of input needs to know: every stream that
    announced a schema (repeats included, which the Target itself ignores) and which
    one came last. A malformed line is one clear error, not a logged traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._stdin: t.IO[str] | None = None
        self.schema_streams: set[str] = set()
        self.last_schema_stream: str | None = None
        self.lines = 0

    @property
    def default_input(self) -> t.IO[str]:  # type: ignore[override]
        """stdin as UTF-8 whatever the locale says: Singer messages are JSON, JSON is UTF-8."""
        if self._stdin is None:
            buffer = getattr(sys.stdin, "buffer", None)
            self._stdin = io.TextIOWrapper(buffer, encoding="utf-8") if buffer else sys.stdin
        return self._stdin

    def deserialize_json(self, line: str) -> dict:
        self.lines += 1
        try:
            message = jsonio.loads(line)
        except (json.JSONDecodeError, jsonio.DecodeError):
            snippet = line.strip()[:80]
            raise InvalidInputLine(
                f"input line {self.lines} is not valid JSON (truncated input?): {snippet!r}"
            ) from None
        if isinstance(message, dict) and message.get("type") == "SCHEMA":
            self.last_schema_stream = str(message.get("stream"))
            self.schema_streams.add(self.last_schema_stream)
        return message


class _Run:
    """One run: its folder, its staging area and the run it builds on."""

    def __init__(self, config: t.Mapping[str, t.Any], started_at: datetime.datetime) -> None:
        self.perms = fsutil.Perms(
            private=bool(config.get("private", True)),
            fsync=bool(config.get("fsync", True)),
            hardlinks=bool(config.get("hardlinks", True)),
        )
        self.started_at = started_at
        output_dir = Path(str(config.get("output_dir") or "coda-backups")).expanduser()
        self.folder = RunFolder(output_dir, config.get("run_id"), started_at, self.perms)
        self.previous = PreviousRun.load(output_dir)
        self.staging = Staging(self.folder.staging_dir, self.perms)
        logger.info(
            "Run %s started in %s (builds on %s)",
            self.folder.run_id,
            self.folder.partial,
            self.previous.run_id if self.previous else "no earlier run",
        )

    def finish(self, reader: TrackingReader, *, require_complete: bool) -> None:
        self.staging.close()
        problems = self.staging.problems()
        coda_input = "docs" in reader.schema_streams
        if require_complete and coda_input and reader.last_schema_stream != CLOSING_STREAM:
            problems.insert(
                0, f"tap-coda's closing `{CLOSING_STREAM}` stream never arrived (tap stopped?)"
            )
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RunNotPromotedError(f"input ended early: {problems[0]}{more}")
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
        )
        built = assemble.build(tree)
        s = report.write(
            tree.root,
            built,
            run_id=self.folder.run_id,
            started_at=iso(self.started_at),
            finished_at=iso(utc_now()),
            previous_run=self.previous.run_id if self.previous else None,
            perms=self.perms,
        )
        final = self.folder.promote()
        logger.info(
            "Run %s is in place (%s): %d docs, %d pages exported, %d unchanged, "
            "%d tables and %d views exported, %d unchanged, %d rows written, %d failures",
            self.folder.run_id,
            final,
            s["docs_processed"],
            s["pages_exported"],
            s["pages_skipped_unchanged"],
            s["tables_exported"],
            s["views_exported"],
            s["tables_skipped_unchanged"],
            s["rows_written"],
            len(built.failures),
        )

    def abandon(self) -> None:
        self.staging.abandon()
        self.folder.abandon()


class TargetFiles(Target):
    """Writes tap-coda's records as a backup tree: pages as Markdown/HTML, tables as CSV,
    metadata as JSON, one self-contained folder per run."""

    name = "target-files"
    package_name = "tap-coda"  # the distribution that ships this target
    capabilities: t.ClassVar[list] = [*Target.capabilities, PluginCapabilities.BATCH]
    message_reader_class = TrackingReader
    default_sink_class = sinks.OtherSink

    config_jsonschema = th.PropertiesList(
        th.Property(
            "output_dir",
            th.StringType,
            default="coda-backups",
            title="Output folder",
            description="Root of all runs: each run is one folder in it, plus `latest`.",
        ),
        th.Property(
            "run_id",
            th.StringType,
            title="Run folder name",
            description="Name of this run's folder (default: UTC start, "
            "`2026-03-07T101530Z`); `-2`, `-3`… is added when the name is taken.",
        ),
        th.Property(
            "private",
            th.BooleanType,
            default=True,
            description="Run folders 0700 and files 0600 (false: the umask decides).",
        ),
        th.Property(
            "hardlinks",
            th.BooleanType,
            default=True,
            description="Carry unchanged files forward from `latest` as hard links "
            "(false, or where linking fails: copies).",
        ),
        th.Property(
            "fsync",
            th.BooleanType,
            default=True,
            description="Flush every file to disk before the run is promoted.",
        ),
        th.Property(
            "require_complete_input",
            th.BooleanType,
            default=True,
            description="With tap-coda's streams in the input, promote the run only if the "
            "tap's closing `failures` stream arrived (set false if you deselect it).",
        ),
    ).to_dict()

    def __init__(self, **kwargs: t.Any) -> None:
        self._started_at = utc_now()
        self._run: _Run | None = None
        self._held_state: dict | None = None
        self._committing = False
        self._schemas: dict[str, dict] = {}
        self._plain_sinks: dict[t.Any, sinks.RowsSink | None] = {}
        super().__init__(**kwargs)
        run_id = self.config.get("run_id")
        if run_id and (problem := run_id_problem(str(run_id))):
            raise RunNotPromotedError(f"setting run_id {run_id!r}: {problem}")

    # -- the run -------------------------------------------------------------------

    @property
    def run(self) -> _Run:
        """The run, started when the first stream arrives (not for --about and such)."""
        if self._run is None:
            self._run = _Run(self.config, self._started_at)
        return self._run

    def abandon(self) -> None:
        """Drop the unfinished run (idempotent); `latest` and earlier runs stay as they are."""
        if self._run is not None and not self._run.folder.promoted:
            self._run.abandon()

    # -- routing -------------------------------------------------------------------

    def get_sink(
        self,
        stream_name: str,
        *,
        record: dict | None = None,
        schema: dict | None = None,
        key_properties: t.Sequence[str] | None = None,
    ) -> Sink:
        if schema is not None:  # remembered for get_sink_class, which sees only the name
            self._schemas[stream_name] = schema
        return super().get_sink(
            stream_name, record=record, schema=schema, key_properties=key_properties
        )

    # -- the per-row path ------------------------------------------------------------
    # Rows are nearly all of a backup's records. For them singer-sdk's generic steps
    # (copy the record, run the identity map, look for `_sdc_` fields, check the drain
    # rules) cost more than writing the CSV row; with no maps, no flattening and no
    # metadata they change nothing, so rows skip them. tests/test_rows_fast_path.py
    # checks that the tree is the same either way.

    def _process_record_message(self, message_dict: dict) -> None:
        stream = message_dict.get("stream")
        sink = self._plain_sinks.get(stream, False)
        if sink is False:
            sink = self._plain_sinks[stream] = self._plain_sink(stream)
        record = message_dict.get("record")
        if sink is None or type(record) is not dict:
            super()._process_record_message(message_dict)
            return
        sink.write_plain(record)

    def _plain_sink(self, stream: t.Any) -> sinks.RowsSink | None:
        """The rows sink when nothing would transform its records; None otherwise."""
        maps = self.mapper.stream_maps.get(stream) if isinstance(stream, str) else None
        if not maps or len(maps) != 1:
            return None
        only = maps[0]
        if type(only) is not SameRecordTransform or only.stream_alias != stream:
            return None
        if only.flattening_enabled or self.config.get("add_record_metadata"):
            return None
        sink = self._sinks_active.get(stream)
        return sink if isinstance(sink, sinks.RowsSink) else None

    def _process_schema_message(self, message_dict: dict) -> None:
        self._plain_sinks.clear()  # a new schema may bring new maps or a new sink
        super()._process_schema_message(message_dict)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        sink_class = sinks.sink_class_for(stream_name, self._schemas.get(stream_name))
        if sink_class is not sinks.OtherSink and self.config.get("flattening_enabled"):
            # Flattened rows lose their `values` object: the CSVs would be silently empty.
            raise RunNotPromotedError(
                f"flattening_enabled cannot be used with tap-coda's `{stream_name}` stream"
            )
        return sink_class

    # -- state: held until the run is in place -------------------------------------

    def _write_state_message(self, state: dict) -> None:
        """singer-sdk calls this on every drain (end of input, the 5-minute rule,
        signals). Writing it now would let Meltano store bookmarks for data that may
        never land, so it is only remembered; `process_endofpipe` writes it."""
        self._held_state = state

    def process_endofpipe(self) -> None:
        self._committing = True
        try:
            super().process_endofpipe()  # drains sinks; state is held, not written
            if self._run is None:
                raise RunNotPromotedError("no Singer SCHEMA or RECORD message received")
            reader = t.cast("TrackingReader", self.message_reader)
            self._run.finish(
                reader, require_complete=bool(self.config.get("require_complete_input", True))
            )
        except PromotionError as exc:
            self.abandon()
            raise RunNotPromotedError(str(exc)) from exc
        except BaseException:
            self.abandon()
            raise
        finally:
            self._committing = False
        if self._held_state:
            sys.stdout.write(jsonio.state_line(self._held_state) + "\n")
            sys.stdout.flush()

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """singer-sdk drains and exits 0 on SIGTERM, which would promote half a run;
        here the run is abandoned instead (unless it is already being put in place)."""
        if self._committing:
            logger.warning("Signal %d received while the run is put in place: finishing", signum)
            return
        raise TerminationRequestedError(signum)

    # -- command line --------------------------------------------------------------

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """singer-sdk's `Target.invoke`, with a clean ending for runs that fail."""
        super(Target, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        try:
            target = cls(
                config=config.config, validate_config=True, parse_env_config=config.parse_env
            )
        except RunNotPromotedError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        try:
            target.listen(file_input)
        except TerminationRequestedError as exc:
            target.abandon()
            cls.logger.error(
                "Stopped by signal %d: run abandoned, latest unchanged, no state written",
                exc.signum,
            )
            sys.exit(128 + exc.signum)
        except RunNotPromotedError as exc:
            cls.logger.error("Run not promoted, latest unchanged, no state written: %s", exc)
            sys.exit(1)
        except INPUT_ERRORS as exc:
            target.abandon()
            reason = exc.args[0] if exc.args else type(exc).__name__
            cls.logger.error("Run abandoned, latest unchanged, no state written: %s", reason)
            sys.exit(1)
        except OSError as exc:
            # A full disk, a read-only or vanished output folder: one line, no traceback.
            target.abandon()
            where = exc.filename or target.config.get("output_dir") or "coda-backups"
            if isinstance(exc, BrokenPipeError):
                where = "stdout"
            done = "Run abandoned, latest unchanged, no state written"
            if target._run is not None and target._run.folder.promoted:
                done = "Run in place, but no state written"  # stdout went away at the end
            cls.logger.error("%s: %s (%s)", done, exc.strerror or exc, where)
            sys.exit(1)
        except BaseException:
            target.abandon()
            cls.logger.error("Run abandoned, latest unchanged, no state written")
            raise
