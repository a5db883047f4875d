"""The three restores: read the snapshot and the live doc, plan, and with `apply` write."""

from __future__ import annotations

import argparse
import typing as t
from dataclasses import dataclass
from pathlib import Path

from coda_backup.restore import apply, pageplan, report, rowplan
from coda_backup.restore.apply import Applied, Sender, seg
from coda_backup.restore.client import Client, RestoreError
from coda_backup.restore.journal import Journal
from coda_backup.restore.snapshot import Snapshot

VALUE_FORMAT = "simpleWithArrays"  # the tap's default: what the saved rows hold


@dataclass
class Context:
    snapshot: Snapshot
    client: Client
    backups: Path  # the backup folder: the journal of unconfirmed writes lives there
    apply: bool

    def sender(self, doc_id: str) -> Sender:
        journal = Journal.for_doc(self.backups, doc_id)
        apply.settle(self.client, journal)  # an interrupted restore's writes land first
        return Sender(self.client, journal)


def _live_table(client: Client, doc_id: str, key: str) -> dict[str, t.Any]:
    table: dict[str, t.Any] = client.get(f"/docs/{seg(doc_id)}/tables/{seg(key)}")
    if table.get("tableType") == "view":
        name = table.get("name")
        raise RestoreError(f"{name!r} is a view: restore its rows into the table it shows")
    return table


def restore_rows(ctx: Context, args: argparse.Namespace) -> dict[str, t.Any]:
    snap, client = ctx.snapshot, ctx.client
    doc = snap.doc(args.doc)
    saved_table = snap.table(doc, args.table)
    if saved_table.get("tableType") == "view":
        raise RestoreError(f"{saved_table.get('name')!r} is a view: restore its base table")
    to_doc = args.to_doc or str(doc["id"])
    live_table = _live_table(client, to_doc, args.to_table or str(saved_table["id"]))
    table_path = f"/docs/{seg(to_doc)}/tables/{seg(str(live_table['id']))}"
    live_columns = list(client.listing(f"{table_path}/columns"))
    same = (to_doc, live_table["id"]) == (doc["id"], saved_table["id"])
    columns = rowplan.map_columns(snap.columns(saved_table), live_columns, by_name=not same)
    sender = ctx.sender(to_doc)
    live = [
        rowplan.LiveRow(str(r["id"]), dict(r.get("values") or {}))
        for r in client.listing(f"{table_path}/rows", valueFormat=VALUE_FORMAT)
    ]
    plan = rowplan.plan_rows(snap.rows(saved_table), live, columns, delete_added=args.delete_added)
    names = {str(c["id"]): str(c.get("name")) for c in live_columns}
    out = report.rows_report(plan, columns, names)
    source = "rows.jsonl" if "rows_json" in (saved_table.get("files") or {}) else "CSV"
    out["title"] = (
        f"restore rows: table {saved_table.get('name')!r} ({saved_table['id']}) of run "
        f"{snap.run.name} ({source}) into {live_table.get('name')!r} ({live_table['id']}) "
        f"of doc {to_doc}"
    )
    applied = None
    if ctx.apply and not plan.empty:
        applied = apply.apply_rows(sender, to_doc, str(live_table["id"]), plan)
    report.add_applied(out, applied if ctx.apply else None)
    return out


def _pages_plan(
    ctx: Context, args: argparse.Namespace, to_doc: str | None, pages: list[t.Any]
) -> pageplan.PagePlan:
    chosen = pageplan.select(pages, getattr(args, "page", None) or [], recursive=args.recursive)
    live = list(ctx.client.listing(f"/docs/{seg(to_doc)}/pages")) if to_doc else []
    parent = None
    if getattr(args, "parent", None):
        found = [p for p in live if p.get("id") == args.parent] or [
            p for p in live if p.get("name") == args.parent
        ]
        if len(found) != 1:
            raise RestoreError(f"--parent {args.parent!r} names {len(found)} pages of doc {to_doc}")
        parent = str(found[0]["id"])
    return pageplan.plan_pages(pages, chosen, live, parent=parent)


def restore_pages(ctx: Context, args: argparse.Namespace) -> dict[str, t.Any]:
    doc = ctx.snapshot.doc(args.doc)
    to_doc = args.to_doc or str(doc["id"])
    pages = ctx.snapshot.pages(doc)
    sender = ctx.sender(to_doc)
    plan = _pages_plan(ctx, args, to_doc, pages)
    out = report.pages_report(plan, {p.id: p.name for p in pages})
    out["title"] = (
        f"restore pages: doc {doc.get('name')!r} of run {ctx.snapshot.run.name} into doc {to_doc}"
    )
    applied = apply.apply_pages(sender, to_doc, plan) if ctx.apply and not plan.empty else None
    report.add_applied(out, applied if ctx.apply else None)
    return out


def restore_doc(ctx: Context, args: argparse.Namespace) -> dict[str, t.Any]:
    """A new doc named NAME with the saved pages; a doc of that name already there (an
    earlier restore) gets only the pages it lacks."""
    doc = ctx.snapshot.doc(args.doc)
    pages = ctx.snapshot.pages(doc)
    found = [
        d
        for d in ctx.client.listing("/docs", isOwner="true", query=args.name)
        if d.get("name") == args.name
    ]
    target = str(found[0]["id"]) if found else None
    plan = _pages_plan(ctx, args, target, pages)
    out = report.pages_report(plan, {p.id: p.name for p in pages})
    out["doc"] = {"name": args.name, "id": target, "create": target is None}
    out["title"] = f"restore doc: doc {doc.get('name')!r} of run {ctx.snapshot.run.name} as " + (
        f"the existing doc {args.name!r} ({target})" if target else f"a new doc {args.name!r}"
    )
    saved_tables = [x for x in doc.get("tables") or [] if x.get("tableType") == "table"]
    out["not_restorable_kinds"] = [
        *report.NOT_RESTORABLE,
        *(f"table {x.get('name')!r} ({x.get('csvRows')} rows saved)" for x in saved_tables),
    ]
    if not ctx.apply or (target and plan.empty):
        report.add_applied(out, Applied() if ctx.apply else None)
        return out
    if target is None:
        first = plan.creates[0].body if plan.creates else {"name": args.name}
        created = ctx.client.write("POST", "/docs", {"title": args.name, "initialPage": first})
        target = str(created["id"])
        out["doc"]["id"] = target
    sender = ctx.sender(target)
    applied = apply.apply_pages(sender, target, _pages_plan(ctx, args, target, pages))
    applied.writes += 1 if out["doc"]["create"] else 0
    report.add_applied(out, applied)
    return out
