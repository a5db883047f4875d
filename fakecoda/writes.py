"""The write endpoints a restore uses, with Coda's behaviour (openapi.json, NOTES.md §9-§12).

`POST /docs` answers 201 with the new doc. Every other write answers 202 with a
`requestId` and changes the workspace only later, through the `MutationQueue`
(mutationStatus). Bodies are checked as the spec's closed schemas are: unknown fields,
bad values, over 2 MB a request or 85 KB a row are 400s (Coda answers 400, not 413);
rows cannot be written to a view nor into a calculated column (400); a token restricted
to reading gets 403 on every write.
"""

from __future__ import annotations

import json
from typing import Any

from fakecoda import htmltext, render
from fakecoda.api import ApiError, CodaApi, Request, Response, Target, dumps
from fakecoda.mutations import MutationQueue
from fakecoda.workspace import Column, Doc, Table, markdown_to_html

MAX_REQUEST_BYTES = 2 * 1024 * 1024  # NOTES §11, §12
MAX_ROW_BYTES = 85 * 1024
READ_ONLY = "This API token is restricted to reading; it cannot write to this doc."
PAGE_CREATE = {"name", "subtitle", "iconName", "imageUrl", "parentPageId", "pageContent"}
PAGE_UPDATE = {"name", "subtitle", "iconName", "imageUrl", "isHidden", "contentUpdate"}
DOC_CREATE = {"title", "sourceDoc", "timezone", "folderId", "initialPage"}


def _body(req: Request, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if len(req.body) > MAX_REQUEST_BYTES:
        raise ApiError(400, "Request body is too large: the limit is 2 MB per request.")
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, f"Unknown field in request body: {unknown[0]!r}")
    missing = [name for name in required if name not in body]
    if missing:
        raise ApiError(400, f"Missing required field {missing[0]!r}.")
    return body


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string.")
    return value


def _is_value(value: Any, depth: int = 0) -> bool:
    """Coda's `Value`: a string, number or boolean, or an array of them (nested once)."""
    if isinstance(value, (str, bool, int, float)):
        return True
    return isinstance(value, list) and depth < 2 and all(_is_value(v, depth + 1) for v in value)


def _icon(name: str) -> dict[str, str]:
    link = f"https://cdn.coda.io/icons/png/color/{name}-32.png"
    return {"name": name, "type": "image/png", "browserLink": link}


def _canvas(content: Any) -> tuple[str, str]:
    """(markdown, html) of a `PageContent`; each format is derived from the other."""
    if not isinstance(content, dict) or set(content) != {"format", "content"}:
        raise ApiError(400, "canvasContent needs exactly 'format' and 'content'.")
    text = content["content"]
    if not isinstance(text, str):
        raise ApiError(400, "canvasContent.content must be a string.")
    if content["format"] == "markdown":
        return text, markdown_to_html(text)
    if content["format"] == "html":
        text = text.rstrip("\n")  # the export adds the final newline back
        return htmltext.html_to_markdown(text), text
    raise ApiError(400, "canvasContent.format must be one of: html, markdown.")


class Writes:
    """The write handlers of one fake, over its `CodaApi` (workspace, base URL, config)."""

    def __init__(self, api: CodaApi, queue: MutationQueue) -> None:
        self.api = api
        self.queue = queue

    @property
    def ws(self) -> Any:
        return self.api.ws

    def check_access(self) -> None:
        if self.api.config.read_only:
            raise ApiError(403, READ_ONLY)

    def _queued(self, apply: Any, **extra: Any) -> Response:
        return Response(202, dumps({"requestId": self.queue.submit(apply), **extra}))

    # ---- status ------------------------------------------------------------------------------

    def mutation_status(self, req: Request, request_id: str) -> Response:
        mutation = self.queue.mutations.get(request_id)
        if mutation is None:
            raise ApiError(404)
        mutation.polls += 1
        if self.api.config.first_poll_404 and mutation.polls == 1:
            raise ApiError(404)  # replication lag right after the write (NOTES §11)
        out: dict[str, Any] = {"completed": mutation.completed}
        if mutation.warning:
            out["warning"] = mutation.warning
        return Response(200, dumps(out))

    # ---- docs and pages ----------------------------------------------------------------------

    def create_doc(self, req: Request, t: Target) -> Response:
        body = _body(req, DOC_CREATE)
        title = _string(body, "title") or "Untitled"
        if _string(body, "sourceDoc") is not None:
            raise ApiError(400, "The fake Coda API does not copy docs (sourceDoc).")
        _string(body, "timezone")
        folder = _string(body, "folderId") or "fl-fake00001"
        initial = body.get("initialPage") or {}
        if not isinstance(initial, dict) or set(initial) - PAGE_CREATE:
            raise ApiError(400, "initialPage must be a PageCreate object.")
        spec = self._page_spec(initial)
        doc = self.ws.add_doc(title, folder_id=folder)
        self._add_page(doc, spec, self.ws.mint_id("canvas-"), None)
        return Response(201, dumps(render.doc_json(self.ws, doc, self.api.base)))

    def _page_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name in ("name", "subtitle", "iconName", "imageUrl"):
            value = _string(body, name)
            if value is not None:
                fields[name] = value
        return fields

    def _page_spec(self, body: dict[str, Any]) -> dict[str, Any]:
        """A `PageCreate` checked whole and read into what `_add_page` needs."""
        spec = self._page_fields(body) | {"kind": "canvas", "markdown": "", "html": ""}
        content = body.get("pageContent")
        if content is not None:
            if not isinstance(content, dict) or content.get("type") not in ("canvas", "embed"):
                raise ApiError(400, "pageContent.type must be canvas or embed here.")
            if content["type"] == "canvas":
                if set(content) != {"type", "canvasContent"}:
                    raise ApiError(400, "A canvas pageContent holds only canvasContent.")
                spec["markdown"], spec["html"] = _canvas(content["canvasContent"])
            else:
                spec["kind"] = "embed"
        return spec

    def _add_page(self, doc: Doc, spec: dict[str, Any], page_id: str, parent: str | None) -> None:
        page = self.ws.add_page(
            doc.id,
            spec.get("name", "Untitled"),
            parent,
            spec["markdown"],
            html=spec["html"],
            content_type=spec["kind"],
            subtitle=spec.get("subtitle", ""),
            page_id=page_id,
        )
        if "iconName" in spec:
            page.icon = _icon(spec["iconName"])

    def create_page(self, req: Request, t: Target) -> Response:
        body = _body(req, PAGE_CREATE)
        parent = _string(body, "parentPageId")
        known = {p.id for p in t.doc.pages} | self.queue.pending_pages
        if parent is not None and parent not in known:
            raise ApiError(400, f"parentPageId {parent!r} is not a page of this doc.")
        spec = self._page_spec(body)  # checked now: a bad body is a 400, not a failed write
        page_id = self.ws.mint_id("canvas-")
        self.queue.pending_pages.add(page_id)
        doc = t.doc

        def apply() -> str | None:
            self.queue.pending_pages.discard(page_id)
            self._add_page(doc, spec, page_id, parent)
            return None

        return self._queued(apply, id=page_id)

    def update_page(self, req: Request, t: Target) -> Response:
        body = _body(req, PAGE_UPDATE)
        fields = self._page_fields(body)
        hidden = body.get("isHidden")
        if hidden is not None and not isinstance(hidden, bool):
            raise ApiError(400, "isHidden must be a boolean.")
        update = body.get("contentUpdate")
        content = None
        if update is not None:
            if not isinstance(update, dict) or update.get("insertionMode") not in (
                "append",
                "replace",
            ):
                raise ApiError(400, "contentUpdate needs insertionMode append or replace.")
            content = (update["insertionMode"], _canvas(update.get("canvasContent")))
        doc, page_id = t.doc, t.page.id

        def apply() -> str | None:
            page = self.ws.page(doc.id, page_id)
            if "name" in fields:
                self.ws.rename_page(doc.id, page_id, fields["name"])
            if "subtitle" in fields:
                page.subtitle = fields["subtitle"]
            if "iconName" in fields:
                page.icon = _icon(fields["iconName"])
            if hidden is not None:
                page.is_hidden = hidden
            if content is not None:
                mode, (markdown, html) = content
                if mode == "append":
                    markdown, html = page.markdown + markdown, page.html + html
                self.ws.edit_page(doc.id, page_id, markdown=markdown, html=html)
            doc.updated_at = self.ws.clock.tick()
            return None

        return self._queued(apply, id=page_id)

    # ---- rows --------------------------------------------------------------------------------

    def _writable(self, table: Table) -> Table:
        if table.table_type == "view":
            raise ApiError(400, "Rows cannot be written through a view; write to its table.")
        return table

    def _column(self, table: Table, key: Any) -> Column:
        column = next((c for c in table.columns if key in (c.id, c.name)), None)
        if column is None:
            raise ApiError(400, f"Unknown column {key!r} in table {table.id}.")
        return column

    def _cells(self, table: Table, edit: Any) -> dict[str, Any]:
        """A `RowEdit` as {column id: stored value}; a blank ("") is stored as no value."""
        if (
            not isinstance(edit, dict)
            or set(edit) != {"cells"}
            or not isinstance(edit["cells"], list)
        ):
            raise ApiError(400, "A row edit is an object holding only 'cells'.")
        if len(dumps(edit)) > MAX_ROW_BYTES:
            raise ApiError(400, "A row is over the size limit of 85 KB.")
        values: dict[str, Any] = {}
        for cell in edit["cells"]:
            if not isinstance(cell, dict) or set(cell) != {"column", "value"}:
                raise ApiError(400, "A cell edit holds exactly 'column' and 'value'.")
            column = self._column(table, cell["column"])
            if column.calculated:
                raise ApiError(400, f"Column {column.id} is calculated and cannot be written.")
            if not _is_value(cell["value"]):
                raise ApiError(400, f"Invalid value for column {column.id}.")
            values[column.id] = None if cell["value"] == "" else cell["value"]
        return values

    def upsert_rows(self, req: Request, t: Target) -> Response:
        body = _body(req, {"rows", "keyColumns"}, ("rows",))
        table = self._writable(t.table)
        if not isinstance(body["rows"], list):
            raise ApiError(400, "rows must be an array.")
        edits = [self._cells(table, edit) for edit in body["rows"]]
        keys = body.get("keyColumns") or []
        if not isinstance(keys, list):
            raise ApiError(400, "keyColumns must be an array.")
        key_ids = [self._column(table, key).id for key in keys]
        added = [] if key_ids else [self.ws.mint_row_id() for _ in edits]
        doc_id, table_id = t.doc.id, table.id

        def apply() -> str | None:
            for n, values in enumerate(edits):
                match = self._match(doc_id, table_id, key_ids, values)
                if match is not None:
                    self.ws.edit_row(doc_id, table_id, match, values)
                else:
                    row_id = added[n] if added else self.ws.mint_row_id()
                    self.ws.add_row(doc_id, table_id, values, row_id=row_id)
            return None

        extra = {"addedRowIds": added} if not key_ids else {}
        return self._queued(apply, **extra)

    def _match(
        self, doc_id: str, table_id: str, key_ids: list[str], values: dict[str, Any]
    ) -> str | None:
        if not key_ids:
            return None
        for row in self.ws.table(doc_id, table_id).rows:
            if all(
                render.simple_text(row.values.get(k)) == render.simple_text(values.get(k))
                for k in key_ids
            ):
                return str(row.id)
        return None

    def _row_id(self, t: Target) -> str:
        row = next((r for r in t.table.rows if t.key in (r.id, r.name)), None)
        if row is None:
            raise ApiError(404)
        return str(row.id)

    def update_row(self, req: Request, t: Target) -> Response:
        body = _body(req, {"row"}, ("row",))
        table = self._writable(t.table)
        values = self._cells(table, body["row"])
        row_id, doc_id = self._row_id(t), t.doc.id

        def apply() -> str | None:
            self.ws.edit_row(doc_id, table.id, row_id, values)
            return None

        return self._queued(apply, id=row_id)

    def delete_row(self, req: Request, t: Target) -> Response:
        table = self._writable(t.table)
        row_id, doc_id = self._row_id(t), t.doc.id
        return self._queued(lambda: self.ws.delete_row(doc_id, table.id, row_id), id=row_id)

    def delete_rows(self, req: Request, t: Target) -> Response:
        body = _body(req, {"rowIds"}, ("rowIds",))
        table = self._writable(t.table)
        ids = body["rowIds"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "rowIds must be an array of row ids.")
        doc_id = t.doc.id

        def apply() -> str | None:
            present = {r.id for r in self.ws.table(doc_id, table.id).rows}
            for row_id in ids:
                if row_id in present:
                    self.ws.delete_row(doc_id, table.id, row_id)
            missing = len([i for i in ids if i not in present])
            return f"{missing} of the rows were already gone." if missing else None

        return self._queued(apply, rowIds=ids)
