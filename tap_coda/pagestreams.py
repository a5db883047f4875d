"""The page branch of the streams: `docs` → `pages` → `page_contents` (docs/RECORDS.md).

`pages` lists every page of a doc (hidden pages and subpages too); `page_contents` exports
each as Markdown or HTML, only when it or a table on it changed (decisions.py), through the
run's export pipeline. A page Coda can never export is a skip, one that fails a failure.
"""

from __future__ import annotations

import typing as t

from tap_coda import decisions, schemas
from tap_coda.assetrefs import in_cover
from tap_coda.contentparts import NAME as PARTS
from tap_coda.export import content_fields
from tap_coda.spooled import SpooledExport
from tap_coda.streams import OBJECT_ERRORS, ChildStream, DocsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

    from tap_coda.contentparts import PageContentPartsStream
    from tap_coda.spooled import Export


class PagesStream(ChildStream):
    """Every page of a doc (a flat list: hidden pages and subpages included)."""

    name = "pages"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/pages"
    primary_keys = ("doc_id", "id")
    schema = schemas.PAGE

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        yield from self.guarded(
            context,
            self.well_formed(context, self._listing(context), "page"),
            object_type="pages",
            object_id=None,
            name="page listing",
        )

    def _listing(self, context: Context) -> t.Iterable[dict[str, t.Any]]:
        """The listing the pipeline prefetched, else a request now."""
        pipeline = self.services.pipeline
        prefetched = pipeline.pages(context["doc_id"]) if pipeline else None
        yield from self.request_records(context) if prefetched is None else prefetched

    def keep(self, page: Record) -> bool:
        return decisions.page_is_kept(page, skip_hidden_pages=self.settings.skip_hidden_pages)

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        assert context is not None
        if self.services.assets is not None and self.keep(row):  # a cover image
            self.services.assets.found(context["doc_id"], f"page:{row['id']}", in_cover(row))
        return {**row, "doc_id": context["doc_id"]} if self.keep(row) else None

    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        for output_format in self.settings.page_formats:
            yield {
                "doc_id": record["doc_id"],
                "page_id": record["id"],
                "format": output_format,
                "page_name": record.get("name"),
                "page_updated_at": record.get("updatedAt"),
                "content_type": record.get("contentType"),
            }


class PageContentsStream(ChildStream):
    """A page exported as Markdown or HTML; skipped when neither it nor its tables changed."""

    name = "page_contents"
    parent_stream_type = PagesStream
    path = "/docs/{doc_id}/pages/{page_id}/export"
    primary_keys = ("doc_id", "page_id", "format")
    replication_key = "page_updatedAt"
    schema = schemas.PAGE_CONTENT
    state_partitioning_keys: t.ClassVar[list[str] | None] = ["doc_id", "page_id", "format"]

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        doc_id, page_id = context["doc_id"], context["page_id"]
        if not decisions.page_is_exportable(context.get("content_type")):
            self.skip(
                decisions.UNEXPORTABLE_PAGE,
                doc_id=doc_id,
                **self._failure_fields(context),
                error="Coda exports only canvas pages; this page is "
                f"{context.get('content_type')!r}",
            )
            return
        reason = decisions.page_export_reason(
            updated_at=context.get("page_updated_at"),
            previous=self.get_starting_replication_key_value(context),
            table_changed=page_id in self.ledger.changed_table_pages.get(doc_id, set()),
            refetch=decisions.refetch_key(doc_id, page_id) in self.settings.refetch,
        )
        if reason is None:
            return
        if self.settings.dry_run:
            # What a run would export, and why; nothing is exported.
            yield {**self._record(context, None), "dry_run_reason": reason, "dry_run": True}
            return
        try:
            content = self.services.export(self, doc_id, page_id, context["format"])
        except OBJECT_ERRORS as exc:
            self.fail(context, exc, **self._failure_fields(context))
            return
        yield self._sent(context, content)

    def _sent(self, context: Context, content: Export) -> dict[str, t.Any]:
        """The export's record; a large one's parts written first (tap_coda.contentparts)."""
        large = content if isinstance(content, SpooledExport) else None
        served = content if isinstance(content, bytes) else None
        if served is not None or (large and not large.utf8):  # a warning, not a failure
            size = large.size if large else len(served or b"")
            self.ledger.record_failure(
                kind="warning",
                reason=decisions.NOT_UTF8,
                doc_id=context["doc_id"],
                **self._failure_fields(context),
                error=f"the export is not UTF-8: its {size} bytes are kept as served",
            )
        if large is None:
            return self._record(context, t.cast("str | bytes", content))
        parts_stream = t.cast("PageContentPartsStream", self._tap.streams[PARTS])
        if not parts_stream.selected:
            # A catalog without the parts stream still gets the whole page, in memory: the
            # one place where a large export costs its size (docs/RECORDS.md).
            return self._record(context, large.whole())
        return {**self._record(context, None), "parts": parts_stream.send(context, large)}

    @staticmethod
    def _record(context: Context, content: str | bytes | None) -> dict[str, t.Any]:
        return {
            "doc_id": context["doc_id"],
            "page_id": context["page_id"],
            "format": context["format"],
            "page_updatedAt": context.get("page_updated_at"),
            **content_fields(content),
        }

    @staticmethod
    def _failure_fields(context: Context) -> dict[str, t.Any]:
        return {
            "object_type": "page_content",
            "object_id": context["page_id"],
            "name": context.get("page_name"),
            "format": context["format"],
        }
