"""The run's `index.html`: what the run is, every doc, what changed since the previous
run (`target_files.rundiff`), and what could not be backed up (failures, skips)."""

from __future__ import annotations

import typing as t

from target_files.viewer.markup import INDEX, document, esc, label, link, table

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from target_files.viewer.docview import DocViews

#: Entries listed per kind of change; the rest are counted.
MAX_CHANGES = 200

_SUMMARY = (
    ("status", "status"),
    ("started", "started_at"),
    ("finished", "finished_at"),
    ("docs", "docs_processed"),
    ("pages exported", "pages_exported"),
    ("pages unchanged", "pages_skipped_unchanged"),
    ("tables exported", "tables_exported"),
    ("views exported", "views_exported"),
    ("tables unchanged", "tables_skipped_unchanged"),
    ("rows written", "rows_written"),
    ("previous run", "previous_run"),
)


def _summary(summary: Mapping[str, t.Any]) -> str:
    facts = [(k, summary.get(key)) for k, key in _SUMMARY]
    facts += [("failures", len(summary.get("failures") or [])), ("skips", summary.get("skipped"))]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v is not None)
    return f'<dl class="facts">{items}</dl>'


def _docs(docs: Sequence[DocViews]) -> str:
    rows = [
        [
            link(INDEX, d.index, d.name),
            esc(d.entry.get("status")),
            esc(len(d.pages)),
            esc(len(d.tables)),
            esc(d.entry.get("updatedAt")),
        ]
        for d in docs
    ]
    if not rows:
        return '<p class="note">No docs in this run.</p>'
    return table(["doc", "status", "pages", "tables and views", "updated in Coda"], rows, "docs")


def _problems(
    records: Sequence[Mapping[str, t.Any]], names: Mapping[str, str], *, reasons: bool
) -> str:
    if not records:
        return '<p class="note">None.</p>'
    headers = ["object", "doc", "name", "id", "format", *(["reason"] if reasons else []), "error"]
    rows = []
    for r in records:
        doc = names.get(str(r.get("doc_id")), r.get("doc_id"))
        cells = [r.get("object_type"), doc, r.get("name"), r.get("object_id"), r.get("format")]
        cells += [r.get("reason")] if reasons else []
        rows.append([esc(c) for c in [*cells, r.get("error")]])
    return table(headers, rows, "problems skips" if reasons else "problems failures")


class _Links:
    """Views of this run by object, for the change list."""

    def __init__(self, docs: Sequence[DocViews]) -> None:
        self.by_kind: dict[str, dict[tuple[str, str], str]] = {
            "docs": {},
            "pages": {},
            "tables": {},
        }
        for d in docs:
            doc_id = str(d.entry.get("id"))
            self.by_kind["docs"][(doc_id, doc_id)] = d.index
            for page_id, page in d.pages.items():
                self.by_kind["pages"][(doc_id, page_id)] = page.view
            for table_id, view in d.tables.items():
                self.by_kind["tables"][(doc_id, table_id)] = view

    def name(self, kind: str, entry: Mapping[str, t.Any]) -> str:
        view = self.by_kind[kind].get((str(entry.get("doc_id")), str(entry.get("id"))))
        text = label(entry.get("new_name", entry.get("name")), entry.get("id"))
        return link(INDEX, view, text) if view else esc(text)


def _change_line(kind: str, what: str, entry: Mapping[str, t.Any], links: _Links) -> str:
    line = links.name(kind, entry)
    if what == "renamed":
        line = f"{esc(entry.get('old_name'))} → {line}"
    if kind == "tables" and what == "changed":
        line += (
            f": {len(entry['rows_added']):,} rows added, {len(entry['rows_removed']):,} removed,"
            f" {len(entry['rows_changed']):,} changed"
        )
        for side in ("added", "removed"):
            if cols := entry.get(f"columns_{side}"):
                line += f"; columns {side}: " + esc(", ".join(str(c.get("name")) for c in cols))
    return f"<li>{line}</li>"


def _changes(changes: Mapping[str, t.Any] | None, note: str, docs: Sequence[DocViews]) -> str:
    if changes is None:
        return f'<p class="note">{esc(note or "No previous run to compare with.")}</p>'
    links, parts = _Links(docs), []
    for kind in ("docs", "pages", "tables"):
        for what in ("added", "removed", "renamed", "changed"):
            entries = changes.get(kind, {}).get(what) or []
            if not entries:
                continue
            shown = "".join(_change_line(kind, what, e, links) for e in entries[:MAX_CHANGES])
            more = len(entries) - MAX_CHANGES
            tail = f'<li class="note">… {more:,} more</li>' if more > 0 else ""
            parts.append(
                f"<h3>{esc(kind[:-1])}s {esc(what)} ({len(entries):,})</h3><ul>{shown}{tail}</ul>"
            )
    return "\n".join(parts) or '<p class="note">Nothing changed.</p>'


def index(
    run_id: str,
    summary: Mapping[str, t.Any],
    docs: Sequence[DocViews],
    changes: tuple[Mapping[str, t.Any] | None, str],
) -> str:
    names = {str(d.entry.get("id")): d.name for d in docs}
    old = (changes[0] or {}).get("old") or summary.get("previous_run")
    parts = [
        f"<h1>Coda backup {esc(run_id)}</h1>",
        _summary(summary),
        f"<h2>Docs ({len(docs)})</h2>",
        _docs(docs),
        f"<h2>Changes since the previous run{f' ({esc(old)})' if old else ''}</h2>",
        _changes(changes[0], changes[1], docs),
        f"<h2>Failures ({len(summary.get('failures') or [])})</h2>",
        _problems(summary.get("failures") or [], names, reasons=False),
        f"<h2>Skips ({len(summary.get('skips') or [])})</h2>",
        _problems(summary.get("skips") or [], names, reasons=True),
    ]
    return document(INDEX, f"Coda backup {run_id}", "\n".join(parts))
