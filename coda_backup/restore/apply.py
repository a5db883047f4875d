"""Sending a plan to Coda (`--apply`): every write within Coda's limits, paced, recorded
in the journal, and confirmed through mutationStatus before the restore reports success."""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field
from urllib.parse import quote

from coda_backup.restore import rowplan
from coda_backup.restore.client import Waiting
from tap_coda.workers import WorkerThread

if t.TYPE_CHECKING:
    from coda_backup.restore.client import Client
    from coda_backup.restore.journal import Journal
    from coda_backup.restore.pageplan import PagePlan
    from coda_backup.restore.rowplan import RowPlan

logger = logging.getLogger("coda-backup")

#: mutationStatus polls per round: Coda applies writes about in order, so the oldest few
#: tell; a round without progress waits before the next.
POLLS_PER_ROUND = 10


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
    """Writes through one client, each recorded in the journal until confirmed.

    Confirmation runs beside the sending, on its own thread and client (reads are another
    rate class than writes): while the pacing holds the next write back, the ones already
    sent are polled, oldest first, a few per round, so a restore ends about when Coda
    applies its last write.
    """

    def __init__(self, client: Client, journal: Journal) -> None:
        self.client, self.journal = client, journal
        self.result = Applied()
        self._cond = threading.Condition()
        self._pending: list[Waiting] = []
        self._closing = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._confirmer: Client | None = None

    def send(self, method: str, path: str, body: t.Any, what: str) -> dict[str, t.Any]:
        answer = self.client.write(method, path, body)
        request_id = answer.get("requestId")
        with self._cond:
            self.result.writes += 1
        if isinstance(request_id, str):
            self.track(request_id, what)
        return answer

    def track(self, request_id: str, what: str) -> None:
        """Confirm this write (journaled until then)."""
        with self._cond:
            self.journal.add(request_id, what)
            self._pending.append(Waiting(request_id, what))
            self._cond.notify_all()
        if self._thread is None:
            self._confirmer = self.client.twin()
            self._thread = WorkerThread(target=self._confirm_loop, daemon=True)
            self._thread.start()

    def _confirm_loop(self) -> None:
        assert self._confirmer is not None
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                batch = self._pending[:POLLS_PER_ROUND]
            progress = False
            for write in batch:
                try:
                    applied, warning = self._confirmer.poll(write)
                except BaseException as exc:  # handed to the sending thread
                    with self._cond:
                        self._error, self._pending = exc, []
                        self._cond.notify_all()
                    return
                if applied:
                    self._done(write, warning)
                    progress = True
            if not progress:
                time.sleep(min(self._confirmer.poll_wait(w) for w in batch))

    def _done(self, write: Waiting, warning: str | None) -> None:
        with self._cond:
            if warning:
                self.result.warnings.append(f"{write.what}: {warning}")
            self.journal.done(write.request_id)
            self.result.confirmed += 1
            self._pending.remove(write)
            self._cond.notify_all()

    def confirm_all(self) -> None:
        """Wait until every write sent so far is confirmed (or one could not be)."""
        with self._cond:
            while self._pending and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._confirmer is not None:
            self._confirmer.close()


def settle(client: Client, journal: Journal) -> int:
    """Wait for the writes an earlier, interrupted restore left unconfirmed."""
    pending = journal.pending()
    if pending:
        logger.info("Waiting for %d write(s) of an earlier restore to be applied", len(pending))
    sender = Sender(client, journal)
    try:
        for request_id, what in pending:
            sender.track(request_id, what)
        sender.confirm_all()
    finally:
        sender.close()
    return len(pending)


def apply_rows(sender: Sender, doc_id: str, table_id: str, plan: RowPlan) -> Applied:
    try:
        _send_rows(sender, f"/docs/{seg(doc_id)}/tables/{seg(table_id)}/rows", plan)
        sender.confirm_all()
    finally:
        sender.close()
    return sender.result


def _send_rows(sender: Sender, path: str, plan: RowPlan) -> None:
    for batch in plan.batches():
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


def _cells(cells: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    return [{"column": k, "value": "" if v is None else v} for k, v in cells.items()]


def apply_pages(sender: Sender, doc_id: str, plan: PagePlan) -> Applied:
    try:
        _send_pages(sender, f"/docs/{seg(doc_id)}/pages", plan)
    finally:
        sender.close()
    return sender.result


def _send_pages(sender: Sender, path: str, plan: PagePlan) -> None:
    """Level by level: a page's parent is confirmed before the page is created under it,
    and a page is confirmed before it is hidden (Coda hides only a page that exists)."""
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
