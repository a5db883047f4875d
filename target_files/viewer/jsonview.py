"""Any JSON the run holds (formulas, controls, sharing, permissions) as readable HTML,
without knowing its shape: a list of objects is a table, an object a definition list."""

from __future__ import annotations

import json
import typing as t

from target_files.viewer.markup import esc

MAX_ITEMS = 1000
MAX_COLUMNS = 12
MAX_DEPTH = 3
MAX_CELL = 300


def render(value: t.Any, depth: int = 0) -> str:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return _records(value, depth)
    if isinstance(value, dict) and depth < MAX_DEPTH:
        items = list(value.items())[:MAX_ITEMS]
        rows = "".join(f"<dt>{esc(k)}</dt><dd>{render(v, depth + 1)}</dd>" for k, v in items)
        return f'<dl class="json">{rows}</dl>'
    if isinstance(value, list) and depth < MAX_DEPTH:
        shown = "".join(f"<li>{render(v, depth + 1)}</li>" for v in value[:MAX_ITEMS])
        return f"<ul>{shown}</ul>{_more(len(value))}"
    return _scalar(value)


def _records(items: list[dict[str, t.Any]], depth: int) -> str:
    columns: list[str] = []
    for item in items[:MAX_ITEMS]:
        columns += [k for k in item if k not in columns]
    columns = columns[:MAX_COLUMNS]
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(item.get(c), depth)}</td>" for c in columns) + "</tr>"
        for item in items[:MAX_ITEMS]
    )
    return f'<table class="json"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>' + (
        _more(len(items))
    )


def _cell(value: t.Any, depth: int) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        if len(text) > MAX_CELL:
            text = text[:MAX_CELL] + "…"
        return f"<code>{esc(text)}</code>"
    return _scalar(value)


def _scalar(value: t.Any) -> str:
    if isinstance(value, (dict, list)):
        return f"<code>{esc(json.dumps(value, ensure_ascii=False))}</code>"
    if isinstance(value, bool) or value is None:
        return f"<code>{esc(json.dumps(value))}</code>"
    return esc(value)


def _more(count: int) -> str:
    return f'<p class="note">… {count - MAX_ITEMS:,} more</p>' if count > MAX_ITEMS else ""
