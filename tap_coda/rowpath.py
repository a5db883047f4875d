"""The per-row path of the `rows` stream: singer-sdk's results at a fraction of the cost.

Rows are nearly all of a backup's records. singer-sdk's generic per-record work (walking
the selection mask through every value of every row, and moving the replication-key
bookmark once per row) was about 40 % of the tap's CPU (the whole pipeline now needs
35.7 µs a row, the naive singer-sdk one 168.7: benchmarks/RESULTS.md). The private hooks
below (the only private singer-sdk members used besides tap.py's signal hook) keep its
results and drop the per-row cost; both fall back to singer-sdk whenever the simple case
does not hold. tests/unit/test_rows_fast_path.py compares them with singer-sdk's own
path, so a singer-sdk change that breaks them fails there.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone
from functools import cached_property

from singer_sdk import Stream
from singer_sdk import singerlib as singer
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record


class PlainRowPath(Stream):
    """Mixed into `RowsStream` before its REST base: the cheap per-row hooks."""

    _latest_row: Record | None = None
    #: When the page being read arrived (set by the stream's `parse_response`).
    _extracted_at: datetime | None = None

    @cached_property
    def _plain_records(self) -> bool:
        """Every property selected, no stream map or flattening, no type conforming: a
        row is emitted exactly as received (what singer-sdk's path would produce)."""
        maps = self.stream_maps
        return (
            self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    def _generate_record_messages(
        self, record: Record
    ) -> t.Generator[singer.RecordMessage, None, None]:
        if not self._plain_records:
            yield from super()._generate_record_messages(record)
            return
        yield singer.RecordMessage(
            stream=self.name,
            record=record,
            version=self._stream_version,
            time_extracted=self._extracted_at or datetime.now(timezone.utc),
        )

    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # The bookmark of an unsorted stream ends at the largest `updatedAt` it saw; keep
        # that row and hand it to singer-sdk once, when the table's rows are done.
        best, key = self._latest_row, self.replication_key or "updatedAt"
        if best is None or (latest_record.get(key) or "") >= (best.get(key) or ""):
            self._latest_row = latest_record

    def _flush_bookmark(self, context: Context) -> None:
        if self._latest_row is not None:
            super()._increment_stream_state(self._latest_row, context=context)
            self._latest_row = None
