"""The /apis/v1 endpoints a backup reads, over a live `Workspace` (NOTES.md §1-§8, §10-§11).

Each handler returns a `Response`; HTTP plumbing, auth, rate limits and generic faults
live in `server.py`. Handlers run under `Workspace.lock`, so tests may mutate the workspace
between (or even during) runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from fakecoda import render, tokens
from fakecoda.doclogic import DocLogicRoutes
from fakecoda.exports import (
    BLOB_PREFIX,
    ExportRegistry,
    blob_key,
    download_url,
    s3_access_denied,
    s3_no_such_key,
)
from fakecoda.faults import EXPORT_KINDS, LINK_KINDS, STALE_KINDS, FaultInjector
from fakecoda.protocol import (
    DEFAULT_LIMIT,
    ApiError,
    ListPage,
    Request,
    Response,
    Target,
    dumps,
    error,
)
from fakecoda.protocol import bool_param as _bool
from fakecoda.workspace import VALUE_FORMATS, Doc, Page, Row, Table, Workspace

if TYPE_CHECKING:
    from fakecoda.server import FakeConfig
    from fakecoda.writes import Writes

__all__ = ["ApiError", "CodaApi", "Request", "Response", "Target", "dumps", "error"]

API_PREFIX = "/apis/v1"
NOT_CANVAS = "Only canvas pages can be exported."
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


class CodaApi(DocLogicRoutes):
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

    def _whoami(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.user_json(self.ws, self.base)))

    def _get_doc(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.doc_json(self.ws, t.doc, self.base)))

    def _get_page(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.page_json(self.ws, t.doc, t.page, self.base)))

    def _get_table(self, req: Request, t: Target) -> Response:
        return Response(200, dumps(render.table_json(self.ws, t.doc, t.table, self.base)))

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

    # ---- lists -------------------------------------------------------------------------------

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

    # ---- rows --------------------------------------------------------------------------------

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

    def _gen_key(self, doc: Doc, table: Table) -> tuple[Any, ...]:
        base = self.ws.base_of(doc, table)
        return (table.gen, base.gen, len(base.rows), len(base.columns), table.name)

    def _cache(self, doc: Doc, table: Table) -> dict[Any, Any]:
        key = self._gen_key(doc, table)
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
        render_row = render.row_renderer(
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
        out = render.row_json(
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

    # ---- export ------------------------------------------------------------------------------

    def _begin_export(self, req: Request, t: Target) -> Response:
        try:
            request = json.loads(req.body or b"{}")
        except ValueError:
            raise ApiError(400, "Request body is not valid JSON.") from None
        fmt = request.get("outputFormat") if isinstance(request, dict) else None
        if fmt not in ("markdown", "html"):
            raise ApiError(400, "outputFormat must be one of: html, markdown.")
        if t.page.content_type != "canvas":
            raise ApiError(400, NOT_CANVAS)  # syncPage; embed and table assumed (NOTES §4)
        content = self.sign_assets(self._export_body(t.doc, t.page, fmt))
        job = self.exports.begin(t.doc.id, t.page.id, fmt, content, t.page.export_fails)
        href = f"{self.base}/docs/{t.doc.id}/pages/{t.page.id}/export/{job.id}"
        return Response(202, dumps({"id": job.id, "status": "inProgress", "href": href}))

    def _export_body(self, doc: Doc, page: Page, fmt: str) -> bytes:
        tables = [t for t in doc.tables if t.parent_page_id == page.id]
        key = (
            page.updated_at,
            hash(page.markdown),
            hash(page.html),
            tuple(self._gen_key(doc, t) for t in tables),
        )
        cached = self._export_cache.get((doc.id, page.id, fmt))
        if cached is not None and cached[0] == key:
            return cached[1]
        content = render.export_content(self.ws, doc, page, fmt).encode()
        self._export_cache[(doc.id, page.id, fmt)] = (key, content)
        return content

    def _export_status(self, req: Request, t: Target) -> Response:
        job = self.exports.jobs.get(t.key)
        if job is None or job.doc_id != t.doc.id or job.page_id != t.page.id:
            raise ApiError(404)
        job.polls += 1
        if self.config.first_poll_404 and job.polls == 1:
            raise ApiError(404)  # replication lag right after the POST (NOTES §4)
        href = f"{self.base}/docs/{t.doc.id}/pages/{t.page.id}/export/{job.id}"
        in_progress = {"id": job.id, "status": "inProgress", "href": href}
        fault = self.faults.take(EXPORT_KINDS, req.method, req.path)
        kind = fault.kind if fault else None
        if kind == "export_stuck":
            return Response(200, dumps(in_progress), fault=kind)
        if kind == "export_fail":
            job.error = job.error or "Export failed. Please try again later."
        if time.monotonic() - job.started < self.config.export_seconds:
            return Response(200, dumps(in_progress), fault=kind)
        if job.error:
            failed = {"id": job.id, "status": "failed", "href": href, "error": job.error}
            return Response(200, dumps(failed), fault=kind)
        link = self.exports.mint_link(job)
        done = {
            "id": job.id,
            "status": "complete",
            "href": href,
            "downloadLink": download_url(self.origin, job, link, self.config.link_ttl),
        }
        return Response(200, dumps(done))

    def blob(self, req: Request) -> Response:
        """The signed download link: web-app host, no auth, no rate limit (NOTES §4)."""
        with self.ws.lock:  # export state is guarded by the workspace lock, as in handle()
            return self._blob(req)

    def _blob(self, req: Request) -> Response:
        xml, ttl = "application/xml", self.config.link_ttl
        sig = req.query.get("sig", "")
        link = self.exports.links.get(sig)
        job = self.exports.jobs.get(link.job_id) if link else None
        if (
            link is None
            or job is None
            or req.method != "GET"
            or req.path[len(BLOB_PREFIX) :] != blob_key(job)
        ):
            return Response(403, s3_access_denied(sig, False, ttl), xml)
        fault = self.faults.take(LINK_KINDS, req.method, req.path)
        if fault is not None and fault.kind == "dead_link_403":
            return Response(403, s3_access_denied(sig, True, ttl), xml, fault=fault.kind)
        no_such_key = s3_no_such_key(job.page_id, job.doc_id, sig)
        if fault is not None:  # dead_link_200
            return Response(200, no_such_key, xml, fault=fault.kind)
        if time.monotonic() - link.minted > ttl:
            job.expired_hits += 1
            if job.expired_hits == 1:
                return Response(200, no_such_key, xml)  # the reported case, HTTP 200
            return Response(403, s3_access_denied(sig, True, ttl), xml)  # the measured case
        if self.config.shared_blob_key:
            # One blob key per page: the newest export of the page wins (NOTES §4).
            job = self.exports.jobs[self.exports.latest_by_key[(job.page_id, job.doc_id)]]
        return Response(
            200, job.body_gz, "text/plain; charset=utf-8", [("Content-Encoding", "gzip")]
        )


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
