"""`--dry-run`: what a run would back up, and with `--incremental` what it would skip.

The real tap runs with its `dry_run` setting (and the incremental state, if any): it lists
docs, pages, tables and columns and takes every decision a real run takes, with the same
code, but fetches nothing: `page_contents` records name the pages it would export (and
why) without content, `table_syncs` say how each table's rows would be read. No export, no
row request. Its records are read here; no target runs and nothing is written.
"""

from __future__ import annotations

import json
import typing as t
from collections import defaultdict

from coda_backup.pipeline import read_tap, write_private_json
from coda_backup.progress import Progress
from coda_backup.report import describe_failure
from tap_coda.decisions import page_is_exportable

if t.TYPE_CHECKING:
    from pathlib import Path

    from coda_backup.progress import Console

RECORD_PREFIX = b'{"type":"RECORD"'
#: The reasons `tap_coda.decisions.page_export_reason` gives, in words.
PAGE_REASONS = {
    "new": "new",
    "changed": "changed",
    "table": "a table on it changed",
    "refetch": "refetch requested",
}
TABLE_READS = {"delta": "changed rows only", "full": "in full", "failed": "in full"}


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
    config_path = str(write_private_json(workdir / "tap.json", {**config, "dry_run": True}))
    command = [tap, "--config", config_path]
    if singer_state is not None:
        command += ["--state", str(write_private_json(workdir / "state.json", singer_state))]

    records: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    progress = Progress(console, label="listing")
    progress.start()
    try:
        for line in read_tap(command, env, console, debug=debug):
            if line.startswith(RECORD_PREFIX):
                message = json.loads(line)
                records[message["stream"]].append(message["record"])
                key = message["stream"].encode()
                progress.counts[key] = progress.counts.get(key, 0) + 1
    finally:
        progress.stop()
    plan = Plan(records, incremental=singer_state is not None, config=config)
    print("\n".join(plan.lines()), flush=True)  # noqa: T201
    return 0


class Plan:
    """The tap's decisions for each listed doc, page and table, ready to print."""

    def __init__(
        self,
        records: t.Mapping[str, list[dict[str, t.Any]]],
        *,
        incremental: bool,
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
        self.incremental = incremental
        self.formats = list(config.get("page_formats") or ["markdown"])
        self.exports = {
            (r["doc_id"], r["page_id"]): r.get("dry_run_reason", "new")
            for r in records.get("page_contents", [])
        }
        self.table_modes = {
            (r["doc_id"], r["table_id"]): r["mode"] for r in records.get("table_syncs", [])
        }
        self.table_verdicts = {
            (doc_id, table.get("id")): self.table_verdict(doc_id, table)
            for doc_id, tables in self.tables.items()
            for table in tables
        }

    # -- verdicts: (action, note) ---------------------------------------------------------

    def table_verdict(self, doc_id: str, table: t.Mapping[str, t.Any]) -> tuple[str, str]:
        mode = self.table_modes.get((doc_id, table.get("id")), "full")
        if mode == "unchanged":
            return "skip", "unchanged"
        return "read", TABLE_READS.get(mode, mode) if self.incremental else ""

    def page_verdict(self, doc_id: str, page: t.Mapping[str, t.Any]) -> tuple[str, str]:
        if not page_is_exportable(page.get("contentType")):
            return "-", f"cannot be exported ({page.get('contentType')} page)"
        reason = self.exports.get((doc_id, page.get("id")))
        if reason is None:
            return "skip", "unchanged"
        return "export", PAGE_REASONS.get(reason, reason) if self.incremental else ""

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
