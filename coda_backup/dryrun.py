"""`--dry-run`: what a run would back up, and with `--incremental` what it would skip.

The real tap runs with a catalog that deselects every stream that exports or reads data
(`page_contents`, `rows`, `table_syncs`, and `columns`, which only rows need): it lists
docs, pages and tables, and so makes no export request. Its records are read here; no
target runs and nothing is written.

The skip prediction mirrors the tap's rules (docs/RECORDS.md, tap_coda/streams.py): a
page is skipped when every format's bookmark equals its `updatedAt` and no table on it
changed; a table when its rows bookmark has a sync token, the same `updatedAt` and
`rowCount`, and no periodic full read is due. Column changes cannot be seen without
reading columns, so a table whose columns alone changed shows as skipped here.
"""

from __future__ import annotations

import json
import typing as t
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from coda_backup.pipeline import read_tap, write_private_json
from coda_backup.progress import Progress
from coda_backup.report import describe_failure
from coda_backup.state import partitions

if t.TYPE_CHECKING:
    from pathlib import Path

    from coda_backup.progress import Console

DESELECTED = frozenset({"page_contents", "rows", "table_syncs", "columns"})
RECORD_PREFIX = b'{"type":"RECORD"'
DEFAULT_FULL_REFRESH_DAYS = 7


def dry_run_catalog(catalog: dict[str, t.Any]) -> dict[str, t.Any]:
    """Select the listing streams, deselect the ones that export or read data."""
    for entry in catalog.get("streams") or []:
        selected = entry.get("tap_stream_id") not in DESELECTED
        for meta in entry.get("metadata") or []:
            if meta.get("breadcrumb") == []:
                meta.setdefault("metadata", {})["selected"] = selected
    return catalog


def run(
    *,
    tap: str,
    config: dict[str, t.Any],
    singer_state: dict[str, t.Any] | None,
    workdir: Path,
    env: dict[str, str],
    console: Console,
    debug: bool,
) -> int:
    config_path = str(write_private_json(workdir / "tap.json", config))
    discovered = b"".join(
        read_tap([tap, "--config", config_path, "--discover"], env, console, debug=debug)
    )
    catalog = dry_run_catalog(json.loads(discovered))
    catalog_path = str(write_private_json(workdir / "catalog.json", catalog))

    records: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    progress = Progress(console, label="listing")
    progress.start()
    try:
        command = [tap, "--config", config_path, "--catalog", catalog_path]
        for line in read_tap(command, env, console, debug=debug):
            if line.startswith(RECORD_PREFIX):
                message = json.loads(line)
                records[message["stream"]].append(message["record"])
                key = message["stream"].encode()
                progress.counts[key] = progress.counts.get(key, 0) + 1
    finally:
        progress.stop()
    plan = Plan(records, singer_state, config)
    print("\n".join(plan.lines()), flush=True)  # noqa: T201
    return 0


class Plan:
    """What a run would do with each listed doc, page and table."""

    def __init__(
        self,
        records: t.Mapping[str, list[dict[str, t.Any]]],
        singer_state: dict[str, t.Any] | None,
        config: t.Mapping[str, t.Any],
    ) -> None:
        self.docs = records.get("docs", [])
        self.failures = records.get("failures", [])
        self.pages: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
        self.tables: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
        for page in records.get("pages", []):
            self.pages[page.get("doc_id", "")].append(page)
        for table in records.get("tables", []):
            self.tables[table.get("doc_id", "")].append(table)
        self.incremental = singer_state is not None
        self.formats = list(config.get("page_formats") or ["markdown"])
        self.refresh_days = int(config.get("rows_full_refresh_days", DEFAULT_FULL_REFRESH_DAYS))
        self.page_bookmarks = {
            (p["context"].get("doc_id"), p["context"].get("page_id"), p["context"].get("format")): p
            for p in partitions(singer_state, "page_contents")
        }
        self.row_bookmarks = {
            (p["context"].get("doc_id"), p["context"].get("table_id")): p
            for p in partitions(singer_state, "rows")
        }
        #: (doc id, page id) of pages holding a table that would be read again
        self.changed_table_pages: set[tuple[str, str]] = set()
        self.table_verdicts = {
            (doc_id, table.get("id")): self._table_verdict(doc_id, table)
            for doc_id, tables in self.tables.items()
            for table in tables
        }

    # -- verdicts: (action, note) ---------------------------------------------------------

    def _refresh_due(self, full_synced_at: str | None) -> bool:
        if not self.refresh_days:
            return False
        if not full_synced_at:
            return True
        try:
            last = datetime.fromisoformat(full_synced_at)
        except ValueError:
            return True
        return last < datetime.now(timezone.utc) - timedelta(days=self.refresh_days)

    def _table_verdict(self, doc_id: str, table: t.Mapping[str, t.Any]) -> tuple[str, str]:
        if not self.incremental:
            return "read", ""
        previous = self.row_bookmarks.get((doc_id, table.get("id")))
        unchanged = (
            previous is not None
            and previous.get("sync_token")
            and previous.get("table_updated_at") == table.get("updatedAt")
            and previous.get("row_count") == table.get("rowCount")
            and not self._refresh_due(previous.get("full_synced_at"))
        )
        if unchanged:
            return "skip", "unchanged"
        page_id = (table.get("parent") or {}).get("id")
        if page_id:
            self.changed_table_pages.add((doc_id, page_id))
        if previous is None:
            return "read", "new"
        if previous.get("table_updated_at") == table.get("updatedAt") and previous.get(
            "row_count"
        ) == table.get("rowCount"):
            return "read", "periodic full read"
        return "read", "changed"

    def page_verdict(self, doc_id: str, page: t.Mapping[str, t.Any]) -> tuple[str, str]:
        if page.get("contentType") != "canvas":
            return "-", f"cannot be exported ({page.get('contentType')} page)"
        if not self.incremental:
            return "export", ""
        bookmarks = [self.page_bookmarks.get((doc_id, page.get("id"), f)) for f in self.formats]
        if any(b is None for b in bookmarks):
            return "export", "new"
        if any(b.get("replication_key_value") != page.get("updatedAt") for b in bookmarks if b):
            return "export", "changed"
        if (doc_id, page.get("id")) in self.changed_table_pages:
            return "export", "a table on it changed"
        return "skip", "unchanged"

    # -- output -------------------------------------------------------------------------

    def _page_depths(self, pages: list[dict[str, t.Any]]) -> dict[str, int]:
        parents = {p.get("id"): (p.get("parent") or {}).get("id") for p in pages}
        depths: dict[str, int] = {}
        for page_id in parents:
            depth, seen, current = 0, set(), parents.get(page_id)
            while current and current in parents and current not in seen:
                seen.add(current)
                depth += 1
                current = parents.get(current)
            depths[str(page_id)] = depth
        return depths

    def lines(self) -> list[str]:
        page_verdicts = {
            (doc_id, page.get("id")): self.page_verdict(doc_id, page)
            for doc_id, pages in self.pages.items()
            for page in pages
        }
        n_pages = sum(len(p) for p in self.pages.values())
        tables = [t_ for ts in self.tables.values() for t_ in ts]
        n_views = sum(1 for t_ in tables if t_.get("tableType") == "view")
        out = [
            "Dry run: nothing is exported and nothing is written.",
            f"A run would back up {len(self.docs)} docs, {n_pages} pages, "
            f"{len(tables) - n_views} tables and {n_views} views "
            f"({', '.join(self.formats)} pages).",
        ]
        if self.incremental:
            skip_pages = sum(1 for v in page_verdicts.values() if v[0] == "skip")
            skip_tables = sum(1 for v in self.table_verdicts.values() if v[0] == "skip")
            out.append(
                f"Incremental: {skip_pages} pages and {skip_tables} tables/views are "
                "unchanged and would be skipped."
            )
        for doc in self.docs:
            doc_id = doc.get("id", "")
            out += ["", f'doc "{doc.get("name")}" ({doc_id})']
            pages = self.pages.get(doc_id, [])
            depths = self._page_depths(pages)
            out.append(f"  pages ({len(pages)}):")
            for page in pages:
                action, note = page_verdicts[(doc_id, page.get("id"))]
                indent = "  " * depths.get(str(page.get("id")), 0)
                line = f"    {action:<6} {indent}{page.get('name')} ({page.get('id')})"
                out.append(f"{line}  [{note}]" if note else line)
            doc_tables = self.tables.get(doc_id, [])
            out.append(f"  tables and views ({len(doc_tables)}):")
            for table in doc_tables:
                action, note = self.table_verdicts[(doc_id, table.get("id"))]
                kind = table.get("tableType") or "table"
                line = (
                    f"    {action:<6} {kind:<5} {table.get('name')} ({table.get('id')}), "
                    f"{table.get('rowCount', '?')} rows"
                )
                out.append(f"{line}  [{note}]" if note else line)
        if self.failures:
            out += ["", f"Already known failures ({len(self.failures)}):"]
            out += [f"  - {describe_failure(f)}" for f in self.failures]
        return out
