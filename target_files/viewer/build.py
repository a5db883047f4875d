"""Writing every view of a run: the static CSS and JS, per doc its index, one view per
page and one per table or view (so no file grows with the account), then `index.html`."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from importlib import resources

from target_files.viewer import runview, tableview
from target_files.viewer.docview import DocViews
from target_files.viewer.markup import INDEX, SCRIPT, STYLE, badge, esc, label, link

if t.TYPE_CHECKING:
    from collections.abc import Callable, Container, Mapping, Sequence
    from pathlib import Path

Write = t.Callable[[str, str], None]


@dataclass(frozen=True)
class RunData:
    """What the views show: the run folder (files are read from it), the manifest's doc
    entries, the summary (counts, failures, skips) and the changes since the previous run
    (None, with a note why, when there is nothing to compare with)."""

    root: Path
    run_id: str
    files: Container[str]
    docs: Sequence[Mapping[str, t.Any]]
    summary: Mapping[str, t.Any]
    changes: Mapping[str, t.Any] | None = None
    changes_note: str = ""


def _static(name: str) -> str:
    return (resources.files("target_files.viewer") / "static" / name).read_text(encoding="utf-8")


def assets_by_url(entry: Mapping[str, t.Any]) -> dict[str, str]:
    """The doc's held assets (manifest `assets`, issue #14): remote URL → path in the run."""
    held = {}
    for asset in entry.get("assets") or []:
        if isinstance(asset, dict) and isinstance(asset.get("path"), str) and asset.get("url"):
            held[str(asset["url"])] = asset["path"]
    return held


def _doc(run: RunData, entry: Mapping[str, t.Any], number: int, write: Write) -> DocViews:
    views = DocViews(run.root, run.files, dict(entry), number)
    top = views.load_pages()
    assets = assets_by_url(entry)
    for page in views.pages.values():
        write(page.view, views.page_html(page, assets))
    items = []
    for position, table in enumerate(entry.get("tables") or [], start=1):
        rel = views.table_view(position)
        views.tables[str(table.get("id"))] = rel
        html, rows_script = tableview.view(run.root, rel, table, [(views.index, views.name)])
        write(rel, html)
        if rows_script is not None:
            write(tableview.data_file(rel), rows_script)
        kind = "view" if table.get("tableType") == "view" else "table"
        on = (table.get("page") or {}).get("name")
        rows = table.get("csvRows")
        items.append(
            f"<li>{link(views.index, rel, label(table.get('name'), table.get('id')))} {badge(kind)}"
            f'<span class="note">{f" on {esc(on)}" if on else ""}'
            f"{f' · {rows:,} rows' if isinstance(rows, int) else ''}</span></li>"
        )
    write(views.index, views.index_html(top, items))
    views.settle()
    return views


def build(run: RunData, write: Write) -> None:
    """Write the run's views through `write(path in the run, text)`."""
    write(STYLE, _static("viewer.css"))
    write(SCRIPT, _static("viewer.js"))
    docs = [_doc(run, entry, n, write) for n, entry in enumerate(run.docs, start=1)]
    write(INDEX, runview.index(run.run_id, run.summary, docs, (run.changes, run.changes_note)))


def cheap_write(root: Path) -> Callable[[str, str], None]:
    """A `write` into any folder (for `coda-backup view` and benchmarks)."""

    def write(rel: str, text: str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return write
