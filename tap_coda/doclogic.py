"""A doc's logic and sharing, and the account's folders (docs/RECORDS.md).

`formulas` and `controls` list references, then read each one for its `value` (and a
control's `controlType`); values change without any `updatedAt` moving, so they are read
on every run, never skipped. `permissions` and `sharing` read the doc's ACL: Coda answers
403 to a caller without sharing rights (a doc shared with you), which is a skip with its
reason, never a failure. `folders` lists `GET /folders` once per run.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import Future
from http import HTTPStatus

from tap_coda import decisions, schemas
from tap_coda.client import CodaClientError
from tap_coda.egress import segment
from tap_coda.readahead import Listing
from tap_coda.responses import json_body
from tap_coda.streams import OBJECT_ERRORS, BackupStream, ChildStream, DocsStream
from tap_coda.workers import WorkerPool

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_coda.readahead import Submit

#: Item reads in flight per doc: short GETs, paced by the read class like every other.
DETAIL_WORKERS = 8
SHARING_PARTS = ("settings", "metadata")


def is_forbidden(exc: BaseException) -> bool:
    """Coda's answer to a caller who may not see a doc's sharing."""
    response = getattr(exc, "response", None)
    return isinstance(exc, CodaClientError) and getattr(response, "status_code", None) == (
        HTTPStatus.FORBIDDEN
    )


#: What a named-items stream reads of a doc: its listing, then a read of each item.
Items = tuple[Listing, list[Future[dict[str, t.Any]]]]


class _NamedItemsStream(ChildStream):
    """A listing of references, each read again for its value (formulas, controls)."""

    kind: t.ClassVar[str]  # "formula" / "control"

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        if self.settings.dry_run:
            return
        doc_id = context["doc_id"]
        ahead = self.services.read_ahead
        taken: Future[Items] | None = ahead.take(self.name, doc_id) if ahead else None
        with WorkerPool(DETAIL_WORKERS, thread_name_prefix=self.name) as pool:
            listing, details = (taken or self.read(doc_id, pool.submit)).result()
            refs = list(
                self.guarded(
                    context,
                    listing.replay(),
                    object_type=f"{self.kind}s",
                    object_id=None,
                    name=f"{self.kind} listing",
                )
            )
            pairs = zip(refs, details, strict=True)  # every ref listed has its read
            items = [self._taken(context, ref, detail) for ref, detail in pairs]
        for item in items:
            if item is not None:
                if "value" in item:
                    item["value"] = schemas.json_text(item["value"])
                yield {**item, "doc_id": doc_id}

    def read(self, doc_id: str, submit: Submit) -> Future[Items]:
        """The doc's listing on a worker, then each item's read on workers of its own
        (`tap_coda.readahead.DocReader`)."""
        return submit(self._read_items, doc_id, submit)

    def _read_items(self, doc_id: str, submit: Submit) -> Items:
        listing = Listing.of(self.request_records({"doc_id": doc_id}))
        return listing, [submit(self._read_item, doc_id, ref) for ref in listing.records]

    def _read_item(self, doc_id: str, ref: dict[str, t.Any]) -> dict[str, t.Any]:
        path = f"/docs/{segment(doc_id)}/{self.kind}s/{segment(ref['id'])}"
        return dict(json_body(self.call("GET", path)))

    def _taken(
        self, context: Context, ref: dict[str, t.Any], detail: Future[dict[str, t.Any]]
    ) -> dict[str, t.Any] | None:
        try:
            return detail.result()
        except OBJECT_ERRORS as exc:
            self.fail(
                context, exc, object_type=self.kind, object_id=ref.get("id"), name=ref.get("name")
            )
            return None


class FormulasStream(_NamedItemsStream):
    """Named canvas formulas and their current values (the formula text is not served)."""

    name = "formulas"
    kind = "formula"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/formulas"
    primary_keys = ("doc_id", "id")
    schema = schemas.FORMULA


class ControlsStream(_NamedItemsStream):
    """Controls (sliders, selects, buttons…), their `controlType` and current values."""

    name = "controls"
    kind = "control"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/controls"
    primary_keys = ("doc_id", "id")
    schema = schemas.CONTROL


class _AclStream(ChildStream):
    def skip_forbidden(self, context: Context, what: str, exc: BaseException) -> None:
        self.skip(
            decisions.NO_SHARING_RIGHTS,
            object_type=what,
            doc_id=context["doc_id"],
            object_id=context["doc_id"],
            name=None,
            error=f"Coda refuses this doc's {what} to a caller without sharing rights (403: {exc})",
            http_status=HTTPStatus.FORBIDDEN,
        )


class PermissionsStream(_AclStream):
    """Who the doc is shared with (`GET …/acl/permissions`, paged)."""

    name = "permissions"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/acl/permissions"
    primary_keys = ("doc_id", "id")
    schema = schemas.PERMISSION

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        if self.settings.dry_run:
            return
        ahead = self.services.read_ahead
        taken: Future[Listing] | None = ahead.take(self.name, context["doc_id"]) if ahead else None
        listing = taken.result().replay() if taken else self.request_records(context)
        try:
            for permission in listing:
                yield {**permission, "doc_id": context["doc_id"]}
        except OBJECT_ERRORS as exc:
            if is_forbidden(exc):
                self.skip_forbidden(context, "permissions", exc)
            else:
                self.fail(
                    context, exc, object_type="permissions", object_id=None, name="permissions"
                )

    def read(self, doc_id: str, submit: Submit) -> Future[Listing]:
        """The doc's permissions listed on a worker (`tap_coda.readahead.DocReader`)."""
        return submit(lambda: Listing.of(self.request_records({"doc_id": doc_id})))


class SharingStream(_AclStream):
    """One record per doc: `{"settings": acl/settings, "metadata": acl/metadata}`; a part
    Coda refuses is null (and a skip)."""

    name = "sharing"
    parent_stream_type = DocsStream
    path = "/docs/{doc_id}/acl"
    primary_keys = ("doc_id",)
    schema = schemas.SHARING

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        if self.settings.dry_run:
            return
        doc_id = context["doc_id"]
        ahead = self.services.read_ahead
        taken: dict[str, Future[t.Any]] | None = ahead.take(self.name, doc_id) if ahead else None
        record: dict[str, t.Any] = {"doc_id": doc_id}
        for part in SHARING_PARTS:
            record[part] = None
            try:
                record[part] = taken[part].result() if taken else self._read_part(doc_id, part)
            except OBJECT_ERRORS as exc:
                if is_forbidden(exc):
                    self.skip_forbidden(context, f"sharing {part}", exc)
                else:
                    what = f"sharing {part}"
                    self.fail(
                        context, exc, object_type=what, object_id=context["doc_id"], name=what
                    )
        if record["settings"] is not None or record["metadata"] is not None:
            yield record

    def read(self, doc_id: str, submit: Submit) -> dict[str, Future[t.Any]]:
        """Both parts read on workers (`tap_coda.readahead.DocReader`)."""
        return {part: submit(self._read_part, doc_id, part) for part in SHARING_PARTS}

    def _read_part(self, doc_id: str, part: str) -> t.Any:
        return json_body(self.call("GET", f"/docs/{segment(doc_id)}/acl/{part}"))


class FoldersStream(BackupStream):
    """The account's folders (`GET /folders`), with the configured workspace's filter."""

    name = "folders"
    path = "/folders"
    primary_keys = ("id",)
    schema = schemas.FOLDER
    page_size = 100

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        if self.settings.workspace_id:
            params["workspaceId"] = self.settings.workspace_id
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        if self.settings.dry_run:
            return
        ahead = self.services.read_ahead
        taken: Future[Listing] | None = ahead.take(self.name) if ahead else None
        yield from self.guarded(
            {},
            taken.result().replay() if taken else self.request_records(context),
            object_type="folders",
            object_id=None,
            name="folder listing",
        )

    def read(self) -> Listing:
        """The whole listing (read ahead once per run, `ReadAhead.once`)."""
        return Listing.of(self.request_records(None))
