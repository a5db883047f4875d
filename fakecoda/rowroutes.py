"""The rows handlers: `listRows` (value formats, query, sort, deltas by sync token) and
`getRow` (NOTES §7, §13.9-§13.12).

Rows pages are the fake's hot path: a table's selections and rendered pages are cached by
its render key (`render_key`), so an unchanged table is rendered once per listing shape.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fakecoda import render, rowrender, tokens
from fakecoda.model import VALUE_FORMATS
from fakecoda.protocol import (
    DEFAULT_LIMIT,
    ApiError,
    ListingApi,
    ListPage,
    Request,
    Response,
    dumps,
)
from fakecoda.protocol import bool_param as _bool

if TYPE_CHECKING:
    from fakecoda.protocol import Target
    from fakecoda.workspace import Doc, Row, Table, Workspace


def render_key(ws: Workspace, doc: Doc, table: Table) -> tuple[Any, ...]:
    """What a table's rendered rows depend on: when it changes, caches of them are stale."""
    base = ws.base_of(doc, table)
    return (table.gen, base.gen, len(base.rows), len(base.columns), table.name)


class RowRoutes(ListingApi):
    """`GET …/rows` and `GET …/rows/{row}`, with the cache of rendered rows pages."""

    #: (doc id, table id) -> (render key, {selection/page key: cached value})
    _row_cache: dict[tuple[str, str], tuple[tuple[Any, ...], dict[Any, Any]]]

    def _row_params(self, req: Request, t: Target) -> dict[str, Any]:
        query = req.query
        fmt = query.get("valueFormat", "simple")
        if fmt not in VALUE_FORMATS:
            raise ApiError(400, f"Invalid value for valueFormat: {fmt!r}")
        sort_by = query.get("sortBy")
        if sort_by not in (None, "createdAt", "natural", "updatedAt"):
            raise ApiError(400, f"Invalid value for sortBy: {sort_by!r}")
        if sort_by == "natural" and _bool(query, "visibleOnly") is False:
            raise ApiError(400, "sortBy=natural cannot be combined with visibleOnly=false.")
        names = bool(_bool(query, "useColumnNames"))
        row_query = query.get("query")
        if row_query is not None:
            _parse_row_query(t.table, row_query)  # 400 now rather than on a later page
        since: int | None = None
        if "syncToken" in query:
            # The sync token fixes the listing's parameters (NOTES §7).
            sync = tokens.decode(query["syncToken"], "sync")
            if sync.get("s") != [t.doc.id, t.table.id] or sync.get("e") != self.ws.sync_epoch:
                raise tokens.TokenError(tokens.INVALID)
            since, fmt, row_query = int(sync["v"]), sync["f"], sync.get("q")
        return {
            "f": fmt,
            "since": since,
            "q": row_query,
            "sort": sort_by,
            "names": names,
            "snap": self.ws.version,  # the version the next sync token will carry
            "e": self.ws.sync_epoch,
        }

    def _cache(self, doc: Doc, table: Table) -> dict[Any, Any]:
        key = render_key(self.ws, doc, table)
        entry = self._row_cache.get((doc.id, table.id))
        if entry is None or entry[0] != key:
            entry = (key, {})
            self._row_cache[(doc.id, table.id)] = entry
        return entry[1]

    def _selection(
        self, doc: Doc, table: Table, p: dict[str, Any]
    ) -> tuple[list[Row], dict[str, int]]:
        """Rows of a listing (delta, query, sort applied) and every row's table index."""
        cache = self._cache(doc, table)
        sel_key = ("sel", p["since"], p["q"], p["sort"])
        hit: tuple[list[Row], dict[str, int]] | None = cache.get(sel_key)
        if hit is not None:
            return hit
        all_rows = self.ws.rows_of(doc, table)
        positions = cache.get("pos")
        if positions is None:
            positions = {r.id: i for i, r in enumerate(all_rows)}
            cache["pos"] = positions
        rows = all_rows
        if p["since"] is not None:
            rows = [r for r in rows if r.version > p["since"]]  # changed or added; never deleted
        if p["q"] is not None:
            col_id, wanted = _parse_row_query(table, p["q"])
            rows = [
                r
                for r in rows
                if r.values.get(col_id) == wanted
                or render.simple_text(r.values.get(col_id)) == render.simple_text(wanted)
            ]
        if p["sort"] == "updatedAt":
            rows = sorted(rows, key=lambda r: r.updated_at)
        cache[sel_key] = (rows, positions)
        return rows, positions

    def _row_items(
        self, doc: Doc, table: Table, p: dict[str, Any], page: ListPage
    ) -> tuple[bytes, bool]:
        """The rendered `items` of one rows page, cached until the table changes."""
        cache = self._cache(doc, table)
        key = ("items", p["since"], p["q"], p["sort"], p["f"], p["names"], page.offset, page.limit)
        hit: tuple[bytes, bool] | None = cache.get(key)
        if hit is not None:
            return hit
        rows, positions = self._selection(doc, table, p)
        render_row = rowrender.row_renderer(
            self.ws, doc, table, value_format=p["f"], base=self.base, use_column_names=p["names"]
        )
        chunk = rows[page.offset : page.offset + page.limit]
        value = (
            dumps([render_row(r, positions[r.id]) for r in chunk]),
            page.offset + page.limit < len(rows),
        )
        cache[key] = value
        return value

    def _list_rows(self, req: Request, t: Target) -> Response:
        scope = [t.doc.id, t.table.id]
        clamp = self.config.row_clamp or self.config.page_clamp
        page = self._page_of_list(req, "rows", scope, clamp, lambda: self._row_params(req, t))
        p = page.params
        if p.get("e") != self.ws.sync_epoch:
            raise tokens.TokenError(tokens.INVALID)
        items, more = self._row_items(t.doc, t.table, p, page)
        if more:
            token = tokens.encode("rows", s=scope, o=page.offset + page.limit, l=page.limit, p=p)
            return self._envelope(items, t, next_token=token)
        # The sync token comes with the final page only (the safe reading of NOTES §7).
        sync = tokens.encode("sync", s=scope, v=p["snap"], f=p["f"], q=p["q"], e=p["e"])
        return self._envelope(items, t, extra={"nextSyncToken": sync})

    def _get_row(self, req: Request, t: Target) -> Response:
        fmt = req.query.get("valueFormat", "simple")
        if fmt not in VALUE_FORMATS:
            raise ApiError(400, f"Invalid value for valueFormat: {fmt!r}")
        rows = self.ws.rows_of(t.doc, t.table)
        index = next((i for i, r in enumerate(rows) if r.id == t.key), None)
        if index is None:
            index = next((i for i, r in enumerate(rows) if r.name == t.key), None)
        if index is None:
            raise ApiError(404)
        out = rowrender.row_json(
            self.ws,
            t.doc,
            t.table,
            rows[index],
            index,
            value_format=fmt,
            base=self.base,
            use_column_names=bool(_bool(req.query, "useColumnNames")),
        )
        out["parent"] = render.table_ref(self.ws, t.doc, t.table, self.base)
        return Response(200, dumps(out))

    def prewarm(self, value_formats: tuple[str, ...], limit: int | None) -> int:
        """Render every rows page of a first listing ahead of time; returns the page count."""
        clamp = self.config.row_clamp or self.config.page_clamp
        size = min(limit or DEFAULT_LIMIT, clamp)
        count = 0
        with self.ws.lock:
            for doc, table in self.ws.iter_tables():
                if doc.over_api_size_limit:
                    continue
                total = len(self.ws.rows_of(doc, table))
                for fmt in value_formats:
                    p = {"f": fmt, "since": None, "q": None, "sort": None, "names": False}
                    for offset in range(0, max(total, 1), size):
                        self._row_items(doc, table, p, ListPage(offset, size, p))
                        count += 1
        return count


def _parse_row_query(table: Table, raw: str) -> tuple[str, Any]:
    """`<columnIdOrName>:<JSON value>`; a column name must be double-quoted (NOTES §7)."""
    if raw.startswith('"'):
        end = raw.find('"', 1)
        key, rest = (raw[1:end], raw[end + 1 :]) if end > 0 else ("", "")
    else:
        key, sep, rest = raw.partition(":")
        rest = sep + rest
    column = next((c for c in table.columns if key in (c.id, c.name)), None)
    if column is None or not rest.startswith(":"):
        raise ApiError(400, f"Invalid query: {raw!r}")
    try:
        return column.id, json.loads(rest[1:])
    except ValueError:
        raise ApiError(400, f"Invalid query: {raw!r}") from None
