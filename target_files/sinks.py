"""One record sink per stream kind; each hands its records to the run's staging area.

Sinks are thin on purpose: what a record means for the tree is decided in `staging` (while
streaming) and `assemble` (at the end). Files are owned by the staging area, not by sinks,
so a sink retired by a schema change (singer-sdk creates a new one and may skip the old
one's `clean_up()`, NOTES gotcha 2) leaves nothing open or unwritten.

Three singer-sdk defaults are changed for every sink here:

- date-time strings are *not* parsed into `datetime` objects: the tree keeps the API's own
  strings (`2026-03-07T10:15:30.000Z` stays exactly that, not `…+00:00`);
- a record that does not match its stream's schema is kept and recorded as a failure
  (`validate_records: false` skips the check), instead of ending the whole run; rows are
  not checked against a schema at all (see `RowsSink`);
- records that arrive as BATCH files (JSON Lines, optionally gzip) are read line by line
  and written like RECORD messages (a plain RecordSink would drop them silently).
"""

from __future__ import annotations

import contextlib
import gzip
import typing as t
from functools import cached_property

import fastjsonschema
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.helpers._batch import BatchFileFormat, StorageTarget
from singer_sdk.sinks import RecordSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from target_files import doclogic, jsonio

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum

    from target_files.staging import Staging

_Sink = t.TypeVar("_Sink", bound="FilesSink")


class RecordingValidator(BaseJSONSchemaValidator):
    """Schema validation that records a mismatch as a failure instead of ending the run:
    one odd value from a loose API must not cost the whole backup (the record is kept as
    received, and `summary.json` says which one and why)."""

    def __init__(self, inner: BaseJSONSchemaValidator, stream: str, staging: Staging) -> None:
        super().__init__(inner.schema)
        self.inner, self.stream, self.staging = inner, stream, staging

    def validate(self, record: dict[str, t.Any]) -> None:
        try:
            self.inner.validate(record)
        except InvalidRecord as exc:
            self.staging.invalid.add(self.stream, record, str(exc.args[0] if exc.args else exc))


class FastValidator(BaseJSONSchemaValidator):
    """singer-sdk's validator with the record check compiled by `fastjsonschema`.

    The schema itself is still checked by jsonschema (once); records, checked once each,
    cost several times less: validation was most of the target's CPU on large tables.
    Formats are not checked, as singer-sdk's default does not check them either.
    """

    def __init__(self, inner: BaseJSONSchemaValidator) -> None:
        super().__init__(inner.schema)
        self._check = fastjsonschema.compile(inner.schema, use_formats=False)

    def validate(self, record: dict[str, t.Any]) -> None:
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            got = repr(exc.value)
            got = got if len(got) <= 80 else got[:77] + "..."
            raise InvalidRecord(f"{exc.message}, got {got}", record) from exc


class FilesSink(RecordSink):
    """Base sink: raw records in, staging calls out. A sink writes into the staging
    area it is bound to (`bind`), not into the target."""

    staging: t.ClassVar[Staging]

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        inner = super().get_validator()
        if inner is None:
            return None
        return RecordingValidator(FastValidator(inner), self.stream_name, self.staging)

    def _parse_timestamps_in_record(
        self,
        record: dict[str, t.Any],
        schema: dict[str, t.Any],
        treatment: DatetimeErrorTreatmentEnum,
    ) -> None:
        """Keep date-time strings exactly as the tap sent them (see module docstring)."""

    def process_record(self, record: dict[str, t.Any], context: dict[str, t.Any]) -> None:
        self.handle(record)

    def handle(self, record: dict[str, t.Any]) -> None:
        raise NotImplementedError

    def process_batch_files(
        self,
        encoding: BaseBatchFileEncoding,
        files: t.Sequence[str],
    ) -> None:
        """Stream the records of BATCH files (JSON Lines, plain or gzip) one by one."""
        if encoding.format != BatchFileFormat.JSONL:
            raise NotImplementedError(
                f"target-files reads BATCH files encoded as jsonl, not {encoding.format!r}: "
                "configure the tap's batch_config with encoding.format = jsonl"
            )
        configured = self.batch_config.storage if self.batch_config else None
        for url in files:
            head, tail = StorageTarget.split_url(url)
            storage = configured or StorageTarget.from_url(head)
            count = 0
            with contextlib.ExitStack() as stack:
                lines: t.IO[bytes] = stack.enter_context(storage.open(tail, mode="rb"))
                if encoding.compression == "gzip":
                    lines = t.cast("t.IO[bytes]", stack.enter_context(gzip.open(lines)))
                for line in lines:
                    if line.strip():
                        self.handle(jsonio.loads(line))
                        count += 1
            self.record_counter_metric.increment(count)


class DocsSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_doc(record)


class PagesSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_page(record)


class PageContentsSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_page_content(record)


class PageContentPartsSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_page_part(record)


class TablesSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_table(record)


class ColumnsSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_column(record)


class RowsSink(FilesSink):
    """Rows are not checked against the stream's schema: the CSV writer takes any JSON
    value in any field, so a check could only report, never protect, and on a large table
    it was a fifth of the target's CPU. What the CSV cannot place (no ids, `values` that
    is not an object) is still caught, by `Staging.add_row`."""

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return None

    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_row(record)

    def write_plain(self, record: dict[str, t.Any]) -> None:
        """A row with no stream map, flattening or `_sdc_` metadata to apply (see
        `TargetFiles._process_record_message`). Of singer-sdk's per-record steps only the
        tallies are left: no schema check (above), date-times are kept as sent, and the
        key properties are the ids `Staging.add_row` requires."""
        if not self._keys_are_ids:
            self._singer_validate_message(record)
        self.tally_record_read()
        self.handle(record)
        self.record_counter_metric.increment()
        self.tally_record_written()

    @cached_property
    def _keys_are_ids(self) -> bool:
        return set(self.key_properties or ()) <= {"doc_id", "table_id", "id"}


class TableSyncsSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_table_sync(record)


class FailuresSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_failure(record)


class DocLogicSink(FilesSink):
    """`formulas`, `controls`, `permissions`: objects of a doc (target_files.doclogic)."""

    @cached_property
    def _json_text(self) -> frozenset[str]:
        return doclogic.json_text_properties(self.schema)

    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.logic.add(self.stream_name, doclogic.decode_json_text(record, self._json_text))


class SharingSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.logic.add_sharing(record)


class FoldersSink(FilesSink):
    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.logic.add_folder(record)


class AssetsSink(FilesSink):
    """Chunks and closing records of images and attachments (target_files.assets)."""

    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.assets.add(record)


class OtherSink(FilesSink):
    """Any stream that is not tap-coda's: JSON Lines under `other/`, never dropped."""

    def handle(self, record: dict[str, t.Any]) -> None:
        self.staging.add_other(self.stream_name, record)


#: tap-coda's streams (docs/RECORDS.md): sink and the fields its schema must declare.
CODA_STREAMS: dict[str, tuple[type[FilesSink], tuple[str, ...]]] = {
    "docs": (DocsSink, ("id",)),
    "pages": (PagesSink, ("doc_id", "id")),
    "page_contents": (PageContentsSink, ("doc_id", "page_id", "format", "content")),
    "page_content_parts": (PageContentPartsSink, ("doc_id", "page_id", "format", "seq")),
    "tables": (TablesSink, ("doc_id", "id")),
    "columns": (ColumnsSink, ("doc_id", "table_id", "id")),
    "rows": (RowsSink, ("doc_id", "table_id", "id")),
    "table_syncs": (TableSyncsSink, ("doc_id", "table_id", "mode")),
    "formulas": (DocLogicSink, ("doc_id", "id")),
    "controls": (DocLogicSink, ("doc_id", "id")),
    "permissions": (DocLogicSink, ("doc_id", "id")),
    "sharing": (SharingSink, ("doc_id",)),
    "folders": (FoldersSink, ("id",)),
    "assets": (AssetsSink, ("doc_id", "key", "seq", "kind")),
    "failures": (FailuresSink, ("object_type", "error")),
}


def sink_class_for(stream_name: str, schema: t.Mapping[str, t.Any] | None) -> type[FilesSink]:
    """tap-coda's sink for a stream of that name whose schema has the expected fields;
    `OtherSink` for everything else (a same-named stream of another tap included)."""
    entry = CODA_STREAMS.get(stream_name)
    properties = (schema or {}).get("properties") or {}
    if entry and all(key in properties for key in entry[1]):
        return entry[0]
    return OtherSink


def bind(sink_class: type[_Sink], staging: Staging) -> type[_Sink]:
    """`sink_class` writing into `staging` (singer-sdk creates sinks from a class)."""
    return type(sink_class.__name__, (sink_class,), {"staging": staging})
