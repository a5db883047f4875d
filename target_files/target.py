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
| `fsync` | `true` | flush every file to disk before the run is promoted (Linux: one `syncfs`) |
| `require_complete_input` | `true` | tap-coda input: promote only after its final STATE |

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
  came, no final STATE after the `failures` stream of a tap-coda run, an exception,
  SIGINT/SIGTERM) is abandoned: its partial folder is removed, `latest` and earlier runs
  are untouched, no state is written, the exit code is non-zero and the reason is one log line.
- failure records are data: a run that recorded some is promoted (`status: partial`) and
  exits 0, as DESIGN.md asks of both Singer programs.
"""

from __future__ import annotations

import logging
import sys
import typing as t

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.target_base import Target

from target_files import bookmarks, jsonio, run, sinks
from target_files.reader import TrackingReader
from target_files.run import (
    ABANDONED,
    Run,
    RunNotPromotedError,
    TerminationRequestedError,
)
from target_files.snapshot import PromotionError, run_id_problem, utc_now

logger = logging.getLogger("target-files")

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.plugin_base import _ConfigInput
    from singer_sdk.sinks import Sink


class SettingError(ValueError):
    """A setting that cannot work; the message is the one line users see."""


#: target-files' own settings (singer-sdk adds its built-ins to `config_jsonschema`).
SETTINGS = th.PropertiesList(
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
        description="Flush every file to disk before the run is promoted (on Linux one "
        "syncfs of the run's file system instead of an fsync per file).",
    ),
    th.Property(
        "verify_carried",
        th.BooleanType,
        default=False,
        description="Before carrying a file of `latest` forward, compare its full sha256 "
        "with the manifest's (always: it is a regular file with the recorded size and "
        "modification time).",
    ),
    th.Property(
        "rows_json",
        th.BooleanType,
        default=False,
        description="Also write `<table>.rows.jsonl` beside each CSV: one row object per "
        "line as Coda served it (values by column id), carried forward and merged like "
        "the CSV; `coda-backup restore` reads it.",
    ),
    th.Property(
        "require_complete_input",
        th.BooleanType,
        default=True,
        description="With tap-coda's streams in the input, promote the run only if the "
        "tap finished: a STATE after its closing `failures` stream (set false if you "
        "deselect it).",
    ),
    th.Property(
        "parent_pid",
        th.IntegerType,
        description="Promote the run only while this process is target-files' parent "
        "(coda-backup sets it: if coda-backup is killed, its orphaned target must not "
        "promote a run coda-backup never approved).",
    ),
)


class TargetFiles(Target):
    """Writes tap-coda's records as a backup tree, one self-contained folder per run."""

    # One line on purpose: singer-sdk puts it into `--about --format=markdown` inside a
    # dedented template, where a second line would indent the whole text into a code block.

    name = "target-files"
    package_name = "tap-coda"  # the distribution that ships this target
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [
        *Target.capabilities,
        PluginCapabilities.BATCH,
    ]
    message_reader_class = TrackingReader
    default_sink_class = sinks.OtherSink

    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, **kwargs: t.Any) -> None:
        self._started_at = utc_now()
        self._run: Run | None = None
        self._held_state: dict[str, t.Any] | None = None
        self._committing = False
        self._schemas: dict[str, dict[str, t.Any]] = {}
        self._plain_sinks: dict[t.Any, sinks.RowsSink | None] = {}
        self._bound: dict[type[sinks.FilesSink], type[sinks.FilesSink]] = {}
        super().__init__(**kwargs)
        run_id = self.config.get("run_id")
        if run_id and (problem := run_id_problem(str(run_id))):
            raise SettingError(f"setting run_id {run_id!r}: {problem}")

    # -- the run -------------------------------------------------------------------

    def start_run(self) -> Run:
        """Claim, lock and stage the run folder. Called when the first SCHEMA message
        arrives (so `--about`, a bad setting or empty input create nothing)."""
        if self._run is None:
            self._run = Run(self.config, self._started_at)
        return self._run

    def abandon(self) -> None:
        """Drop the unfinished run (idempotent); `latest` and earlier runs stay as they are."""
        if self._run is not None:
            self._run.abandon()

    # -- routing -------------------------------------------------------------------

    def get_sink(
        self,
        stream_name: str,
        *,
        record: dict[str, t.Any] | None = None,
        schema: dict[str, t.Any] | None = None,
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
    # metadata they change nothing, so rows skip them. tests/unit/test_rows_fast_path.py
    # checks that the tree is the same either way.

    def _process_record_message(self, message_dict: dict[str, t.Any]) -> None:
        stream = message_dict.get("stream")
        if stream in self._plain_sinks:
            sink = self._plain_sinks[stream]
        else:
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

    def _process_schema_message(self, message_dict: dict[str, t.Any]) -> None:
        self.start_run()  # the input has begun: every sink writes into this run
        self._plain_sinks.clear()  # a new schema may bring new maps or a new sink
        super()._process_schema_message(message_dict)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """The stream's sink class, bound to the run's staging area (singer-sdk builds
        sinks from a class and the target; the staging is what they write to)."""
        sink_class = sinks.sink_class_for(stream_name, self._schemas.get(stream_name))
        if sink_class is not sinks.OtherSink and self.config.get("flattening_enabled"):
            # Flattened rows lose their `values` object: the CSVs would be silently empty.
            raise RunNotPromotedError(
                f"flattening_enabled cannot be used with tap-coda's `{stream_name}` stream"
            )
        bound = self._bound.get(sink_class)
        if bound is None:
            bound = self._bound[sink_class] = sinks.bind(sink_class, self.start_run().staging)
        return bound

    # -- state: held until the run is in place -------------------------------------

    def _write_state_message(self, state: dict[str, t.Any]) -> None:
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
            self._run.check_input(
                reader, require_complete=bool(self.config.get("require_complete_input", True))
            )
            self._run.finish(reader)
        except PromotionError as exc:
            self.abandon()
            raise RunNotPromotedError(str(exc)) from exc
        except BaseException:
            self.abandon()
            raise
        finally:
            self._committing = False
        if self._held_state:
            state = self._held_state
            if self._run.damaged:  # fetched again in full by the next run, not carried
                state = bookmarks.without_damaged(state, self._run.damaged)
            sys.stdout.write(jsonio.state_line(state) + "\n")
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
        """singer-sdk's `Target.invoke`; a run that does not end well ends with one line."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except SettingError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except SystemExit:  # --about, --help: singer-sdk's own ending
            raise
        except BaseException as exc:
            current = run.current()
            if current is not None:
                current.abandon()
            output_dir = str(current.output_dir) if current else "coda-backups"
            ending = run.ending(exc, current, output_dir)
            if ending is None:
                cls.logger.error("%s", ABANDONED)
                raise
            cls.logger.error("%s", ending[0])
            sys.exit(ending[1])
