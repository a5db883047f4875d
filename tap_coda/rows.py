"""The `rows` and `table_syncs` streams: a table's rows, read in full, as a delta, or not.

How a table is read is decided by `tap_coda.decisions.plan_rows`; this module only carries
the decision out (fetch, fall back from a delta to a full read, stream, bookmark) and
records the outcome for `table_syncs`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime, timezone

from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_coda import assetrefs, decisions, schemas, shapes
from tap_coda.client import CodaClientError, NextPageTokenPaginator
from tap_coda.ledger import TableOutcome
from tap_coda.prefetch import pages_ahead
from tap_coda.rowpath import PlainRowPath
from tap_coda.streams import OBJECT_ERRORS, ChildStream, TablesStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context, Record

#: A delta larger than this is fetched again in full instead of held in memory.
MAX_DELTA_ROWS = 20_000

Rows = t.Iterable[dict[str, t.Any]]


@dataclass
class _Tally:
    """What the rows read so far of one table say: how many, and the newest `createdAt`."""

    rows: int = 0
    max_created: str = ""


class RowsStream(PlainRowPath, ChildStream):
    """A table's rows, fetched in full, as a sync-token delta, or not at all.

    Per table the state keeps the final page's `nextSyncToken`, the row count, the columns'
    fingerprint and the table's `updatedAt` (see `decisions.plan_rows` for what they decide).
    """

    name = "rows"
    parent_stream_type = TablesStream
    # Rows are Coda's JSON as received, already what the schema says: checking every
    # value of every row again would be most of the tap's CPU on a large table.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    path = "/docs/{doc_id}/tables/{table_id}/rows"
    primary_keys = ("doc_id", "table_id", "id")
    replication_key = "updatedAt"
    schema = schemas.ROW
    state_partitioning_keys: t.ClassVar[list[str] | None] = ["doc_id", "table_id"]

    _sync_token: str | None = None
    _paginator: NextPageTokenPaginator | None = None
    _page_names_asset_host = False

    def get_new_paginator(self) -> NextPageTokenPaginator:
        self._paginator = super().get_new_paginator()
        return self._paginator

    def request_records(self, context: Context | None) -> Rows:
        """singer-sdk's page loop, each next rows page asked for while this one is handled
        (tap_coda.prefetch). Coda ends a listing by leaving out `nextPageToken` only."""
        paginator = self.get_new_paginator()
        send = self.request_decorator(self._request)

        def fetch() -> tuple[requests.PreparedRequest, requests.Response]:
            prepared = self._prepare_request(context=context, page=paginator)
            return prepared, send(prepared, context)

        def advance(page: tuple[requests.PreparedRequest, requests.Response]) -> bool:
            paginator.advance(page[1])
            return not paginator.finished

        with self.get_http_request_counter() as request_counter:
            request_counter.with_context(context)
            for prepared, response in pages_ahead(fetch, advance):
                request_counter.increment()
                self.update_sync_costs(prepared, response, context)
                yield from shapes.checked("row", self.parse_response(response))

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        params = {
            **super().get_url_params(context, next_page_token),
            "valueFormat": self.settings.value_format,
        }
        if self._sync_token:
            params["syncToken"] = self._sync_token
        return params

    def plan(
        self, context: Context, previous: t.Mapping[str, t.Any], fingerprint: str | None
    ) -> decisions.RowsPlan:
        """How this table's rows are read this run (`context`: its `getTable` facts)."""
        return decisions.plan_rows(
            previous,
            context,
            fingerprint,
            now=datetime.now(timezone.utc),
            refresh_days=self.settings.rows_full_refresh_days,
            refetch=decisions.refetch_key(context["doc_id"], context["table_id"])
            in self.settings.refetch,
        )

    def get_records(self, context: Context | None) -> Rows:
        assert context is not None
        state = self.get_context_state(context)
        key = (context["doc_id"], context["table_id"])
        plan = self.plan(context, state, self.ledger.column_fingerprints.get(key))
        self.logger.debug("Rows of %s: %s (%s)", context["table_id"], plan.mode, plan.reason)
        if self.settings.dry_run:
            # Say what a run would do (a delta may still turn full once read); read nothing.
            self._record_outcome(context, plan.mode, 0)
            return
        mode, rows = self._rows_to_read(context, state, plan.mode)
        tally = _Tally(max_created=(state.get("max_created_at") or "") if mode == "delta" else "")
        try:
            yield from self._counted(rows, tally)
        except OBJECT_ERRORS as exc:
            self._flush_bookmark(context)
            self.fail(
                context,
                exc,
                object_type="rows",
                object_id=context["table_id"],
                name=context.get("table_name"),
            )
            self.ledger.table_outcomes[key] = TableOutcome("failed", tally.rows)
            return
        self._flush_bookmark(context)
        self._record_outcome(context, mode, tally.rows)
        if mode != "unchanged":
            self._save_bookmark(context, state, mode, tally)

    def _rows_to_read(
        self, context: Context, state: dict[str, t.Any], planned: decisions.RowsMode
    ) -> tuple[decisions.RowsMode, Rows]:
        """The rows the plan asks for; a delta that cannot be trusted turns into a full read."""
        if planned == "unchanged":
            return "unchanged", ()
        if planned == "delta":
            delta = self._delta(context, state)
            if delta is not None:
                return "delta", delta
        return "full", self._fetch(context, None)

    @staticmethod
    def _counted(rows: Rows, tally: _Tally) -> Rows:
        for row in rows:
            tally.rows += 1
            tally.max_created = max(tally.max_created, row.get("createdAt") or "")
            yield row

    def _fetch(self, context: Context, sync_token: str | None) -> Rows:
        self._sync_token = sync_token
        try:
            yield from self.request_records(context)
        finally:
            self._sync_token = None

    def _delta(self, context: Context, previous: dict[str, t.Any]) -> list[dict[str, t.Any]] | None:
        """The rows changed since the token, or None when only a full read is safe."""
        try:
            rows = []
            for row in self._fetch(context, previous["sync_token"]):
                rows.append(row)
                if len(rows) > MAX_DELTA_ROWS:
                    return None
        except CodaClientError as exc:
            self.logger.info(
                "Sync token of %s refused (%s): reading it in full", context["table_id"], exc
            )
            return None
        if not decisions.delta_explains_count(previous, rows, context.get("row_count")):
            return None  # rows were deleted (deltas never say so)
        return rows

    def _record_outcome(self, context: Context, mode: str, emitted: int) -> None:
        self.ledger.table_outcomes[(context["doc_id"], context["table_id"])] = TableOutcome(
            mode, emitted
        )
        if mode != "unchanged":
            self.ledger.mark_table_changed(context["doc_id"], context.get("page_id"))

    def _save_bookmark(
        self, context: Context, state: dict[str, t.Any], mode: str, tally: _Tally
    ) -> None:
        """Written only once every page is out: a failed read keeps the old token."""
        key = (context["doc_id"], context["table_id"])
        state.update(
            sync_token=self._paginator.next_sync_token if self._paginator else None,
            row_count=context.get("row_count"),
            columns_fingerprint=self.ledger.column_fingerprints.get(key),
            table_updated_at=context.get("table_updated_at"),
            table_browser_link=context.get("table_browser_link"),
            page_id=context.get("page_id"),  # for TablesStream, should the table vanish
            max_created_at=tally.max_created or None,
        )
        if mode == "full":
            state["full_synced_at"] = datetime.now(timezone.utc).isoformat()

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        assert context is not None
        row["doc_id"], row["table_id"] = context["doc_id"], context["table_id"]
        row["table_type"] = context.get("table_type")
        if self._page_names_asset_host and self.services.assets is not None:
            urls = assetrefs.in_value(row.get("values"))
            self.services.assets.found(context["doc_id"], f"table:{context['table_id']}", urls)
        return row

    def parse_response(self, response: requests.Response) -> Rows:
        # Every row of a page was extracted when the page arrived: one clock read a page.
        self._extracted_at = datetime.now(timezone.utc)
        # Rows are looked at for asset URLs only on a page that names an asset host.
        assets = self.services.assets
        body = response.content
        self._page_names_asset_host = assets is not None and any(
            marker in body for marker in assets.markers
        )
        yield from super().parse_response(response)


class TableSyncsStream(ChildStream):
    """One record per table per run: how its rows were read (full, delta, unchanged)."""

    name = "table_syncs"
    parent_stream_type = TablesStream
    path = "/docs/{doc_id}/tables/{table_id}/rows"  # no request of its own
    primary_keys = ("doc_id", "table_id")
    schema = schemas.TABLE_SYNC

    def get_records(self, context: Context | None) -> Rows:
        assert context is not None
        outcome = self.ledger.table_outcomes.pop((context["doc_id"], context["table_id"]), None)
        if outcome is None:
            return  # rows not selected: nothing to say
        record = {
            "doc_id": context["doc_id"],
            "table_id": context["table_id"],
            "table_type": context.get("table_type"),
            "mode": outcome.mode,
            "rows_emitted": outcome.rows_emitted,
            "row_count": context.get("row_count"),
        }
        # A dry run's plan, not rows read: marked, so no target takes it for a backup.
        yield {**record, "dry_run": True} if self.settings.dry_run else record
