"""The handlers of docs, pages, tables and columns: `whoami`, each object, each listing.

Listings filter and order as Coda does (NOTES §1-§3, §5, §6) and page through
`ListingApi`; every object is rendered by `render`.
"""

from __future__ import annotations

from typing import Any

from fakecoda import render
from fakecoda.protocol import ApiError, ListingApi, Request, Response, Target, dumps
from fakecoda.protocol import bool_param as _bool


class ObjectRoutes(ListingApi):
    """`GET` of the user, a doc, a page, a table, a column, and their listings."""

    def _whoami(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.user_json(self.ws, self.base)))

    def _get_doc(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.doc_json(self.ws, t.doc, self.base)))

    def _get_page(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.page_json(self.ws, t.doc, t.page, self.base)))

    def _get_table(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.table_json(self.ws, t.doc, t.table, self.base)))

    def _list_docs(self, req: Request, t: Target) -> Response:
        def params() -> dict[str, Any]:
            return {
                "isOwner": _bool(req.query, "isOwner"),
                "workspaceId": req.query.get("workspaceId"),
                "folderId": req.query.get("folderId"),
                "query": req.query.get("query"),
            }

        page = self._page_of_list(req, "docs", [], self.config.page_clamp, params)
        p = page.params
        docs = [d for d in self.ws.docs if d.listed]  # never-opened docs are not listed
        if p.get("isOwner"):
            docs = [d for d in docs if d.is_owner]
        if p.get("workspaceId"):
            docs = [d for d in docs if d.workspace_id == p["workspaceId"]]
        if p.get("folderId"):
            docs = [d for d in docs if d.folder_id == p["folderId"]]
        if p.get("query"):
            docs = [d for d in docs if p["query"].lower() in d.name.lower()]
        # Most recent first, as the Coda docs page orders them (NOTES §2).
        docs = sorted(docs, key=lambda d: d.updated_at, reverse=True)
        items = [render.doc_json(self.ws, d, self.base) for d in docs]
        return self._paged(items, page, t, kind="docs", scope=[])

    def _list_pages(self, req: Request, t: Target) -> Response:
        scope = [t.doc.id]
        page = self._page_of_list(req, "pages", scope, self.config.page_clamp, dict)
        items = [
            render.page_json(self.ws, t.doc, p, self.base) for p in self.ws.pages_in_order(t.doc)
        ]
        return self._paged(items, page, t, kind="pages", scope=scope)

    def _list_tables(self, req: Request, t: Target) -> Response:
        def params() -> dict[str, Any]:
            raw = req.query.get("tableTypes")
            types = [x for x in (raw or "").split(",") if x] or ["table", "view"]
            if any(x not in ("table", "view") for x in types):
                raise ApiError(400, f"Invalid value for tableTypes: {raw!r}")
            sort_by = req.query.get("sortBy")
            if sort_by not in (None, "name"):
                raise ApiError(400, f"Invalid value for sortBy: {sort_by!r}")
            return {"types": types, "sortBy": sort_by}

        scope = [t.doc.id]
        page = self._page_of_list(req, "tables", scope, self.config.page_clamp, params)
        tables = [x for x in t.doc.tables if x.table_type in page.params["types"]]
        if page.params.get("sortBy") == "name":
            tables = sorted(tables, key=lambda x: x.name)
        items = [render.table_ref(self.ws, t.doc, x, self.base) for x in tables]
        return self._paged(items, page, t, kind="tables", scope=scope)

    def _list_columns(self, req: Request, t: Target) -> Response:
        scope = [t.doc.id, t.table.id]
        _bool(req.query, "visibleOnly")  # validated; the fake has no hidden columns
        page = self._page_of_list(req, "columns", scope, self.config.column_clamp, dict)
        items = [render.column_json(self.ws, t.doc, t.table, c, self.base) for c in t.table.columns]
        return self._paged(items, page, t, kind="columns", scope=scope)

    def _get_column(self, req: Request, t: Target) -> Response:
        column = next((c for c in t.table.columns if c.id == t.key), None) or next(
            (c for c in t.table.columns if c.name == t.key), None
        )
        if column is None:
            raise ApiError(404)
        out = render.column_json(self.ws, t.doc, t.table, column, self.base)
        out["parent"] = render.table_ref(self.ws, t.doc, t.table, self.base)
        return Response(200, dumps(out))
