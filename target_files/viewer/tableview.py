"""A table or view of the run as an HTML table: its first rows (a view file stays small
and quick whatever the table holds), a filter box and sortable columns (viewer.js), and
a link to the full CSV."""

from __future__ import annotations

import csv
import itertools
import json
import operator
import typing as t

from target_files.csvfile import ROW_FIELDS
from target_files.viewer.markup import badge, document, esc, label, link

if t.TYPE_CHECKING:
    from pathlib import Path

#: Rows a table view holds; the CSV holds them all.
PREVIEW_ROWS = 500


def _read(root: Path, rel: str) -> tuple[list[str], list[list[str]], bool]:
    """(header, first rows, whether more rows follow) of a CSV of the run."""
    with (root / rel).open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = list(itertools.islice(reader, PREVIEW_ROWS + 1))
    return header, rows[:PREVIEW_ROWS], len(rows) > PREVIEW_ROWS


def _grid(header: list[str], rows: list[list[str]]) -> tuple[str, str]:
    """The table's HTML (its header: the row name, then the table's own columns, the
    other `_row_…` fields being in the CSV; every header a sort button) and its rows as a
    script of data for viewer.js, which fills the body with text nodes: one C call here
    instead of escaping every cell keeps a backup's cost flat."""
    at = [1, *range(len(ROW_FIELDS), len(header))] if header[:1] == ["_row_id"] else []
    at = at or list(range(len(header)))
    names = ["Row" if i == 1 and at[0] == 1 else header[i] for i in at]
    head = "".join(f'<th scope="col"><button type="button">{esc(n)}</button></th>' for n in names)
    width = max(at, default=-1) + 1
    pick = operator.itemgetter(*at) if len(at) > 1 else lambda row: tuple(row[i] for i in at)
    cells = [pick(row if len(row) >= width else row + [""] * (width - len(row))) for row in rows]
    data = json.dumps(cells, ensure_ascii=False).replace("\\u0000", "\\ufffd")
    html = (
        '<div class="scroll"><table class="rows" data-filter="filter" data-count="shown">'
        f"<thead><tr>{head}</tr></thead>\n<tbody></tbody></table></div>"
    )
    return html, f"codaViewer.rows({data});\n"


def _facts(entry: t.Mapping[str, t.Any]) -> str:
    page = (entry.get("page") or {}).get("name")
    facts = [
        ("type", entry.get("tableType")),
        ("on page", page),
        ("rows in Coda", entry.get("rowCount")),
        ("rows in the CSV", entry.get("csvRows")),
        ("updated", entry.get("updatedAt")),
        ("id", entry.get("id")),
    ]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v is not None)
    return f'<dl class="facts">{items}</dl>'


def data_file(rel: str) -> str:
    """The rows script beside the view file `rel`."""
    return rel.removesuffix(".html") + ".rows.js"


def view(
    root: Path,
    rel: str,
    entry: t.Mapping[str, t.Any],
    crumbs: t.Sequence[tuple[str, str]],
) -> tuple[str, str | None]:
    """The view file at `rel` for the manifest's table `entry`, and the text of its rows
    script (`data_file`; None: no rows to show)."""
    name = label(entry.get("name"), entry.get("id"))
    kind = "view" if entry.get("tableType") == "view" else "table"
    csv_rel = ((entry.get("files") or {}).get("csv") or {}).get("path")
    parts = [f"<h1>{esc(name)} {badge(kind)}</h1>", _facts(entry)]
    if not csv_rel:
        parts.append(
            f'<p class="note">No CSV in this backup (status: {esc(entry.get("status"))}).</p>'
        )
        return document(rel, name, "\n".join(parts), crumbs=crumbs), None
    try:
        header, rows, more = _read(root, str(csv_rel))
    except (OSError, csv.Error) as exc:
        parts.append(f'<p class="note">The CSV could not be read: {esc(exc)}</p>')
        return document(rel, name, "\n".join(parts), crumbs=crumbs), None
    full = link(rel, str(csv_rel), "the full CSV")
    if more:
        total = entry.get("csvRows")
        of = f" of {total:,}" if isinstance(total, int) else ""
        parts.append(f'<p class="note">Showing the first {len(rows):,}{of} rows; {full}.</p>')
    else:
        parts.append(f'<p class="note">All {len(rows):,} rows; also as {full}.</p>')
    parts.append(
        '<p class="tools"><label>Filter <input id="filter" type="search" '
        'placeholder="text in any cell"></label> '
        f'<span><span id="shown">{len(rows)}</span> rows shown</span></p>'
    )
    grid, rows_script = _grid(header, rows)
    parts.append(grid)
    page = document(rel, name, "\n".join(parts), scripts=[data_file(rel)], crumbs=crumbs)
    return page, rows_script
