"""Sending a plan to Coda (`--apply`): every write within Coda's limits, paced, recorded
in the journal, and confirmed through mutationStatus before the restore reports success."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field
from urllib.parse import quote

from coda_backup.restore import rowplan

if t.TYPE_CHECKING:
    from coda_backup.restore.client import Client
    from coda_backup.restore.journal import Journal
    from coda_backup.restore.pageplan import PagePlan
    from coda_backup.restore.rowplan import RowPlan

logger = logging.getLogger("coda-backup")


def seg(key: str) -> str:
    """An id or name as one URL path segment."""
    return quote(key, safe="")


@dataclass
class Applied:
    writes: int = 0
    confirmed: int = 0
    new_ids: dict[str, str] = field(default_factory=dict)  # old id -> new id
    warnings: list[str] = field(default_factory=list)


class Sender:
    """Writes through one client, each recorded in the journal until confirmed."""

    def __init__(self, client: Client, journal: Journal) -> None:
        self.client, self.journal = client, journal
        self.result = Applied()
        self._sent: list[str] = []

    def send(self, method: str, path: str, body: t.Any, what: str) -> dict[str, t.Any]:
        answer = self.client.write(method, path, body)
        self.result.writes += 1
        request_id = answer.get("requestId")
        if isinstance(request_id, str):
            self.journal.add(request_id, what)
            self._sent.append(request_id)
        return answer

    def confirm_all(self) -> None:
        """Wait for every write sent so far (oldest first: Coda applies them in order)."""
        for request_id in self._sent:
            self.confirm(request_id, self.journal.entries.get(request_id, ""))
        self._sent.clear()

    def confirm(self, request_id: str, what: str) -> None:
        warning = self.client.confirm(request_id)
        if warning:
            self.result.warnings.append(f"{what}: {warning}")
        self.journal.done(request_id)
        self.result.confirmed += 1


def settle(client: Client, journal: Journal) -> int:
    """Wait for the writes an earlier, interrupted restore left unconfirmed."""
    pending = journal.pending()
    if pending:
        logger.info("Waiting for %d write(s) of an earlier restore to be applied", len(pending))
    sender = Sender(client, journal)
    for request_id, what in pending:
        sender.confirm(request_id, what)
    return len(pending)


def apply_rows(sender: Sender, doc_id: str, table_id: str, plan: RowPlan) -> Applied:
    path = f"/docs/{seg(doc_id)}/tables/{seg(table_id)}/rows"
    for batch in rowplan.insert_batches(plan.inserts):
        rows = [{"cells": _cells(cells)} for _, cells in batch]
        answer = sender.send("POST", path, {"rows": rows}, f"insert {len(rows)} rows")
        added = answer.get("addedRowIds") or []
        for (old_id, _), new_id in zip(batch, added, strict=False):
            sender.result.new_ids[old_id] = str(new_id)
    for row_id, cells in plan.updates:
        body = {"row": {"cells": _cells(cells)}}
        sender.send("PUT", f"{path}/{seg(row_id)}", body, f"update row {row_id}")
    for ids in rowplan.delete_batches(plan.deletes):
        sender.send("DELETE", path, {"rowIds": ids}, f"delete {len(ids)} rows")
    sender.confirm_all()
    return sender.result


def _cells(cells: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    return [{"column": k, "value": "" if v is None else v} for k, v in cells.items()]


def apply_pages(sender: Sender, doc_id: str, plan: PagePlan) -> Applied:
    """Level by level: a page's parent is confirmed before the page is created under it,
    and a page is confirmed before it is hidden (Coda hides only a page that exists)."""
    path = f"/docs/{seg(doc_id)}/pages"
    new_ids = sender.result.new_ids
    for depth in sorted({c.depth for c in plan.creates}):
        level = [c for c in plan.creates if c.depth == depth]
        for create in level:
            parent = new_ids[create.parent] if create.parent else create.live_parent
            body = {**create.body, **({"parentPageId": parent} if parent else {})}
            answer = sender.send("POST", path, body, f"create page {create.body['name']!r}")
            new_ids[create.old_id] = str(answer.get("id"))
        sender.confirm_all()
        for create in level:
            if create.hidden:
                page = f"{path}/{seg(new_ids[create.old_id])}"
                sender.send("PUT", page, {"isHidden": True}, f"hide page {create.body['name']!r}")
        sender.confirm_all()
    return sender.result
