"""`page_content_parts`: a large page export sent in ordered parts (docs/RECORDS.md).

An export over `PART_BYTES` (tap_coda.spooled) is not one record: its parts go first, each
at most `PART_BYTES`, numbered from 0, as text (`content`) or, when the export is not
UTF-8, as base64 of its bytes (`content_base64`); then its `page_contents` record carries
`content: null` and `parts`, the number sent. A target that knows the stream appends the
parts; any other keeps them as records. The stream has no records of its own: the
`page_contents` stream writes them while it syncs.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Stream

from tap_coda import schemas
from tap_coda.export import content_fields

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_coda.services import Services
    from tap_coda.spooled import SpooledExport

NAME = "page_content_parts"


class PageContentPartsStream(Stream):
    name = NAME
    primary_keys = ("doc_id", "page_id", "format", "seq")
    schema = schemas.PAGE_CONTENT_PART

    def __init__(self, tap: Tap, services: Services) -> None:
        self.services = services
        self._schema_sent = False
        super().__init__(tap)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        return iter(())

    def sync(self, context: Context | None = None) -> None:  # type: ignore[misc]  # final
        """Nothing of its own: a run without a large export sends no SCHEMA of this stream,
        so warehouses see the streams they always saw."""

    def send(self, context: Context, export: SpooledExport) -> int:
        """Write the export's parts, in order, as RECORDs (its SCHEMA first, once); return
        how many were sent. The work file is removed whatever happens."""
        if not self._schema_sent:
            self._write_schema_message()
            self._schema_sent = True
        seq = 0
        try:
            for piece in export.pieces():
                self._write_record_message(
                    {
                        "doc_id": context["doc_id"],
                        "page_id": context["page_id"],
                        "format": context["format"],
                        "seq": seq,
                        **content_fields(piece),
                    }
                )
                seq += 1
        finally:
            export.discard()
        return seq
