"""The write endpoints a restore uses, with Coda's behaviour (openapi.json, NOTES.md §9-§12).

`POST /docs` answers 201 with the new doc. Every other write answers 202 with a
`requestId` and changes the workspace only later, through the `MutationQueue`
(mutationStatus). Bodies are checked as the spec's closed schemas are: unknown fields,
bad values, over 2 MB a request or 85 KB a row are 400s (Coda answers 400, not 413);
rows cannot be written to a view nor into a calculated column (400); a token restricted
to reading gets 403 on every write.
"""

from __future__ import annotations

from typing import Any

from fakecoda import render
from fakecoda.api import ApiError, CodaApi, Request, Response, Target, dumps
from fakecoda.mutations import MutationQueue
from fakecoda.workspace import Doc
from fakecoda.writebodies import (
    DOC_CREATE,
    PAGE_CREATE,
    PAGE_UPDATE,
    canvas,
    column_of,
    icon,
    page_fields,
    page_spec,
    read_body,
    row_cells,
    row_id_of,
    string_field,
    writable,
)

READ_ONLY = "This API token is restricted to reading; it cannot write to this doc."


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
        body = read_body(req, DOC_CREATE)
        title = string_field(body, "title") or "Untitled"
        if string_field(body, "sourceDoc") is not None:
            raise ApiError(400, "The fake Coda API does not copy docs (sourceDoc).")
        string_field(body, "timezone")
        folder = string_field(body, "folderId") or "fl-fake00001"
        initial = body.get("initialPage") or {}
        if not isinstance(initial, dict) or set(initial) - PAGE_CREATE:
            raise ApiError(400, "initialPage must be a PageCreate object.")
        spec = page_spec(initial)
        doc = self.ws.add_doc(title, folder_id=folder)
        self._add_page(doc, spec, self.ws.mint_id("canvas-"), None)
        return Response(201, dumps(render.doc_json(self.ws, doc, self.api.base)))

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
            page.icon = icon(spec["iconName"])

    def create_page(self, req: Request, t: Target) -> Response:
        body = read_body(req, PAGE_CREATE)
        parent = string_field(body, "parentPageId")
        known = {p.id for p in t.doc.pages} | self.queue.pending_pages
        if parent is not None and parent not in known:
            raise ApiError(400, f"parentPageId {parent!r} is not a page of this doc.")
        spec = page_spec(body)  # checked now: a bad body is a 400, not a failed write
        page_id = self.ws.mint_id("canvas-")
        self.queue.pending_pages.add(page_id)
        doc = t.doc

        def apply() -> str | None:
            self.queue.pending_pages.discard(page_id)
            self._add_page(doc, spec, page_id, parent)
            return None

        return self._queued(apply, id=page_id)

    def update_page(self, req: Request, t: Target) -> Response:
        body = read_body(req, PAGE_UPDATE)
        fields = page_fields(body)
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
            content = (update["insertionMode"], canvas(update.get("canvasContent")))
        doc, page_id = t.doc, t.page.id

        def apply() -> str | None:
            page = self.ws.page(doc.id, page_id)
            if "name" in fields:
                self.ws.rename_page(doc.id, page_id, fields["name"])
            if "subtitle" in fields:
                page.subtitle = fields["subtitle"]
            if "iconName" in fields:
                page.icon = icon(fields["iconName"])
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

    def upsert_rows(self, req: Request, t: Target) -> Response:
        body = read_body(req, {"rows", "keyColumns"}, ("rows",))
        table = writable(t.table)
        if not isinstance(body["rows"], list):
            raise ApiError(400, "rows must be an array.")
        edits = [row_cells(table, edit) for edit in body["rows"]]
        keys = body.get("keyColumns") or []
        if not isinstance(keys, list):
            raise ApiError(400, "keyColumns must be an array.")
        key_ids = [column_of(table, key).id for key in keys]
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

    def update_row(self, req: Request, t: Target) -> Response:
        body = read_body(req, {"row"}, ("row",))
        table = writable(t.table)
        values = row_cells(table, body["row"])
        row_id, doc_id = row_id_of(t), t.doc.id

        def apply() -> str | None:
            self.ws.edit_row(doc_id, table.id, row_id, values)
            return None

        return self._queued(apply, id=row_id)

    def delete_row(self, req: Request, t: Target) -> Response:
        table = writable(t.table)
        row_id, doc_id = row_id_of(t), t.doc.id
        return self._queued(lambda: self.ws.delete_row(doc_id, table.id, row_id), id=row_id)

    def delete_rows(self, req: Request, t: Target) -> Response:
        body = read_body(req, {"rowIds"}, ("rowIds",))
        table = writable(t.table)
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
