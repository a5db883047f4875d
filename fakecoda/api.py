"""The /apis/v1 endpoints a backup reads, over a live `Workspace` (NOTES.md §1-§8, §10-§11).

This module routes a request to its handler and resolves the doc, page or table it names;
the handlers are grouped by resource: objectroutes.py (docs, pages, tables, columns),
rowroutes.py, exportroutes.py, doclogic.py (formulas, controls, ACL, folders) and
writes.py. Each handler returns a `Response`; HTTP plumbing, auth, rate limits and generic
faults live in `server.py`. Handlers run under `Workspace.lock`, so tests may mutate the workspace
between (or even during) runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from fakecoda import tokens
from fakecoda.doclogic import DocLogicRoutes
from fakecoda.exportroutes import ExportRoutes
from fakecoda.exports import ExportRegistry
from fakecoda.faults import STALE_KINDS, FaultInjector
from fakecoda.objectroutes import ObjectRoutes
from fakecoda.protocol import ApiError, Request, Response, Target, dumps, error
from fakecoda.rowroutes import RowRoutes
from fakecoda.workspace import Doc, Page, Table, Workspace

if TYPE_CHECKING:
    from fakecoda.server import FakeConfig
    from fakecoda.writes import Writes

__all__ = ["ApiError", "CodaApi", "Request", "Response", "Target", "dumps", "error"]

API_PREFIX = "/apis/v1"
NOT_LATEST = "Doc is not yet up to date."
TOO_BIG = "This doc is over the API size limit and cannot be accessed through the API."


# path shape (ids as "*") -> {method: handler}; "writes." handlers live in writes.py
ROUTES: dict[tuple[str, ...], dict[str, str]] = {
    ("whoami",): {"GET": "_whoami"},
    ("mutationStatus", "*"): {"GET": "writes.mutation_status"},
    ("docs",): {"GET": "_list_docs", "POST": "writes.create_doc"},
    ("docs", "*"): {"GET": "_get_doc"},
    ("docs", "*", "pages"): {"GET": "_list_pages", "POST": "writes.create_page"},
    ("docs", "*", "pages", "*"): {"GET": "_get_page", "PUT": "writes.update_page"},
    ("docs", "*", "pages", "*", "export"): {"POST": "_begin_export"},
    ("docs", "*", "pages", "*", "export", "*"): {"GET": "_export_status"},
    ("docs", "*", "tables"): {"GET": "_list_tables"},
    ("docs", "*", "tables", "*"): {"GET": "_get_table"},
    ("docs", "*", "tables", "*", "columns"): {"GET": "_list_columns"},
    ("docs", "*", "tables", "*", "columns", "*"): {"GET": "_get_column"},
    ("docs", "*", "tables", "*", "rows"): {
        "GET": "_list_rows",
        "POST": "writes.upsert_rows",
        "DELETE": "writes.delete_rows",
    },
    ("docs", "*", "tables", "*", "rows", "*"): {
        "GET": "_get_row",
        "PUT": "writes.update_row",
        "DELETE": "writes.delete_row",
    },
    ("docs", "*", "formulas"): {"GET": "_formulas"},
    ("docs", "*", "formulas", "*"): {"GET": "_formulas"},
    ("docs", "*", "controls"): {"GET": "_controls"},
    ("docs", "*", "controls", "*"): {"GET": "_controls"},
    ("docs", "*", "acl", "*"): {"GET": "_acl"},
    ("folders",): {"GET": "_list_folders"},
    ("folders", "*"): {"GET": "_get_folder"},
}
#: The segments after a doc id that name a page or a table; others name an item by id.
_DOC_PARTS = ("pages", "tables")


class CodaApi(ObjectRoutes, RowRoutes, ExportRoutes, DocLogicRoutes):
    """Routes each request to its handler; the handlers are grouped by resource in
    objectroutes, rowroutes, exportroutes, doclogic and (writes) writes.py."""

    def __init__(
        self,
        workspace: Workspace,
        config: FakeConfig,
        exports: ExportRegistry,
        faults: FaultInjector,
    ) -> None:
        self.ws = workspace
        self.config = config
        self.exports = exports
        self.faults = faults
        self.origin = ""  # "http://127.0.0.1:PORT", set once the server is bound
        self.base = ""
        # (doc id, table id) -> (generation key, {selection/page key: cached value})
        self._row_cache: dict[tuple[str, str], tuple[tuple[Any, ...], dict[Any, Any]]] = {}
        self._export_cache: dict[tuple[str, str, str], tuple[Any, bytes]] = {}
        #: replaces asset placeholders by signed links (set by the server: fakecoda.assets)
        self.sign_assets: Callable[[bytes], bytes] = lambda body: body
        self.writes: Writes | None = None  # set by the server (writes.py imports this module)

    # ---- entry -------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            with self.ws.lock:
                if self.writes is not None:
                    self.writes.queue.settle()  # writes whose delay is over, before anything
                response = self._route(req)
            response.body = self.sign_assets(response.body)  # fresh asset links (assets.py)
            return response
        except ApiError as exc:
            return exc.response
        except tokens.TokenError:
            return error(400, tokens.INVALID)

    def _route(self, req: Request) -> Response:
        parts = [unquote(p) for p in req.path[len(API_PREFIX) + 1 :].split("/")]
        if parts and parts[-1] == "":
            parts.pop()
        shape = tuple(p if i % 2 == 0 else "*" for i, p in enumerate(parts))
        methods = ROUTES.get(shape)
        if methods is None:
            raise ApiError(404)
        name = methods.get(req.method)
        if name is None:
            raise ApiError(405, f"The fake Coda API does not serve {req.method} here.")
        handler = self._handler(name, req.method)
        if shape[0] == "mutationStatus":
            return handler(req, parts[1])
        target = Target(
            href=self.base
            + req.path[len(API_PREFIX) :]
            + (f"?{req.raw_query}" if req.raw_query else "")
        )
        keys = parts[1::2]
        if parts[0] != "docs":
            target.key = keys[0] if keys else ""
        elif keys:
            target.doc = self._doc(keys[0], req)
            if len(parts) > 2 and target.doc.over_api_size_limit:
                raise ApiError(403, TOO_BIG)  # NOTES §12: listed, but its content is not
        if parts[0] == "docs" and len(parts) > 2 and parts[2] not in _DOC_PARTS:
            target.key = keys[1] if len(keys) > 1 else ""
        elif len(keys) > 1:
            if parts[2] == "pages":
                target.page = self._page(target.doc, keys[1])
            else:
                target.table = self._table(target.doc, keys[1])
        if len(keys) > 2:
            target.key = keys[2]
        return handler(req, target)

    def _handler(self, name: str, method: str) -> Callable[[Request, Any], Response]:
        owner: Any = self
        if name.startswith("writes."):
            if self.writes is None:
                raise ApiError(405, f"The fake Coda API does not serve {method} here.")
            if method != "GET":
                self.writes.check_access()
            owner, name = self.writes, name.removeprefix("writes.")
        handler: Callable[[Request, Any], Response] = getattr(owner, name)
        return handler

    # ---- lookups (ID or URI-encoded name, NOTES §1) ---------------------------------------------

    def _doc(self, key: str, req: Request) -> Doc:
        doc = next((d for d in self.ws.docs if d.id == key), None) or next(
            (d for d in self.ws.docs if d.name == key), None
        )
        if doc is None:
            raise ApiError(404)
        version = req.headers.get("x-coda-doc-version")
        if version is not None:
            # Only the literal `latest` is accepted (NOTES §10); a stale fault refuses it too.
            if version != "latest":
                raise ApiError(400, NOT_LATEST)
            if self.faults.take(STALE_KINDS, req.method, req.path) is not None:
                raise ApiError(400, NOT_LATEST)
        return doc

    @staticmethod
    def _page(doc: Doc, key: str) -> Page:
        page = next((p for p in doc.pages if p.id == key), None) or next(
            (p for p in doc.pages if p.name == key), None
        )
        if page is None:
            raise ApiError(410 if key in doc.deleted_ids else 404)
        return page

    @staticmethod
    def _table(doc: Doc, key: str) -> Table:
        table = next((t for t in doc.tables if t.id == key), None) or next(
            (t for t in doc.tables if t.name == key), None
        )
        if table is None:
            raise ApiError(404)  # getTable/listRows declare no 410 (NOTES §7)
        return table
