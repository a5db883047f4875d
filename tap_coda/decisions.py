"""What an incremental run reads again, as pure functions of bookmarks and listings.

Every rule of "has this changed since the last run?" lives here, once: the rows stream,
the export pipeline's look-ahead, the page contents stream and `coda-backup --dry-run`
all ask these functions. Nothing here does I/O or reads a clock (the caller passes `now`).
tests/unit/test_decisions.py holds one table of cases per function.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime, timedelta

RowsMode = t.Literal["full", "delta", "unchanged"]

#: The one content type Coda's export endpoint accepts (NOTES.md §4).
EXPORTABLE_CONTENT_TYPE = "canvas"
#: Why an object is skipped rather than failed: Coda can never serve it.
UNEXPORTABLE_PAGE = "unexportable_page"
OVER_API_SIZE_LIMIT = "over_api_size_limit"
NO_SHARING_RIGHTS = "no_sharing_rights"  # a doc shared with you: Coda hides its ACL
#: A `warning` (backed up, but not as one would expect): an export whose bytes are not UTF-8.
NOT_UTF8 = "not_utf8"


@dataclass(frozen=True)
class RowsPlan:
    """How a table's rows are read this run, and why (the reason is logged and tested)."""

    mode: RowsMode
    reason: str


def refetch_key(doc_id: str, object_id: str | None) -> str:
    """The `refetch` setting's spelling of an object: `<doc_id>/<page_or_table_id>`."""
    return f"{doc_id}/{object_id}"


def plan_rows(
    previous: t.Mapping[str, t.Any],
    table: t.Mapping[str, t.Any],
    columns_fingerprint: str | None,
    *,
    now: datetime,
    refresh_days: int,
    refetch: bool = False,
) -> RowsPlan:
    """How a table's rows are read, from its rows bookmark (`previous`), this run's
    `getTable` facts (`table`: table_type, table_updated_at, row_count,
    table_browser_link) and its columns' fingerprint (None: the columns were not read)."""
    same_table = previous.get("table_updated_at") == table.get("table_updated_at")
    same_count = previous.get("row_count") == table.get("row_count")
    # The first rule that holds decides; their order is the order of the checks.
    rules: tuple[tuple[bool, RowsMode, str], ...] = (
        (refetch, "full", "refetch requested"),
        (not previous.get("sync_token"), "full", "no sync token"),
        (
            columns_fingerprint is None
            or previous.get("columns_fingerprint") != columns_fingerprint,
            "full",
            "columns changed",
        ),
        # A renamed page changes every row's browserLink (it carries the page's name)
        # while no updatedAt moves: the table's own browserLink tells.
        (
            previous.get("table_browser_link") != table.get("table_browser_link"),
            "full",
            "browser link moved",
        ),
        (
            full_refresh_due(previous.get("full_synced_at"), now=now, refresh_days=refresh_days),
            "full",
            "periodic full refresh",
        ),
        (same_table and same_count, "unchanged", "same updatedAt and rowCount"),
        # Rows entering or leaving a view's filter are not "changed" rows.
        (table.get("table_type") == "view", "full", "view changed"),
        # Deltas never report deletions.
        ((table.get("row_count") or 0) < (previous.get("row_count") or 0), "full", "fewer rows"),
    )
    for holds, mode, reason in rules:
        if holds:
            return RowsPlan(mode, reason)
    return RowsPlan("delta", "changed")


def full_refresh_due(last_full: str | None, *, now: datetime, refresh_days: int) -> bool:
    """A table is read in full at least every `refresh_days` (0: never for this reason):
    deltas cannot see formula values that changed without their row changing."""
    if not refresh_days:
        return False
    return not last_full or datetime.fromisoformat(last_full) < now - timedelta(days=refresh_days)


def delta_explains_count(
    previous: t.Mapping[str, t.Any], rows: t.Sequence[t.Mapping[str, t.Any]], row_count: int | None
) -> bool:
    """A delta is safe to merge only if the previous count plus the rows created since
    gives today's `rowCount`; otherwise rows were deleted (deltas never say so)."""
    since = previous.get("max_created_at") or ""
    created = sum(1 for row in rows if (row.get("createdAt") or "") > since)
    return (previous.get("row_count") or 0) + created == row_count


def page_is_exportable(content_type: str | None) -> bool:
    """Coda exports only canvas pages; sync pages, embeds and table pages never."""
    return content_type == EXPORTABLE_CONTENT_TYPE


def page_export_reason(
    *, updated_at: str | None, previous: str | None, table_changed: bool, refetch: bool
) -> str | None:
    """Why an exportable page is exported this run, or None when its last export stands.

    `previous` is the `page_updatedAt` of its last export. A page without `updatedAt` is
    always exported (nothing proves it unchanged); a changed table on the page changes
    its export although the page's `updatedAt` does not move.
    """
    if refetch:
        return "refetch"
    if previous is None:
        return "new"
    if not updated_at or previous != updated_at:
        return "changed"
    if table_changed:
        return "table"
    return None


def page_is_kept(page: t.Mapping[str, t.Any], *, skip_hidden_pages: bool) -> bool:
    """Whether a listed page is backed up at all (`skip_hidden_pages` drops hidden ones)."""
    return not (skip_hidden_pages and page.get("isEffectivelyHidden"))


def doc_is_over_size_limit(doc: t.Mapping[str, t.Any]) -> bool:
    """Coda serves only the metadata of a doc over its API size limit."""
    return bool((doc.get("docSize") or {}).get("overApiSizeLimit"))


def table_is_kept(ref: t.Mapping[str, t.Any], *, include_views: bool) -> bool:
    """Whether a listed table or view is backed up (`include_views` false drops views)."""
    return include_views or ref.get("tableType") != "view"
