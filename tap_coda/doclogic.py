"""A doc's logic and sharing, and the account's folders (docs/RECORDS.md).

`formulas` and `controls` list references, then read each one for its `value` (and a
control's `controlType`); values change without any `updatedAt` moving, so they are read
on every run, never skipped. `permissions` and `sharing` read the doc's ACL: Coda answers
403 to a caller without sharing rights (a doc shared with you), which is a skip with its
reason, never a failure. `folders` lists `GET /folders` once per run.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from tap_coda import decisions, schemas
from tap_coda.client import CodaClientError
from tap_coda.egress import segment
from tap_coda.responses import json_body
from tap_coda.streams import OBJECT_ERRORS, BackupStream, ChildStream, DocsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Item reads in flight per doc: short GETs, paced by the read class like every other.
DETAIL_WORKERS = 8


def is_forbidden(exc: BaseException) -> bool:
    """Coda's answer to a caller who may not see a doc's sharing."""
    response = getattr(exc, "response", None)
    return isinstance(exc, CodaClientError) and getattr(response, "status_code", None) == (
        HTTPStatus.FORBIDDEN
    )


class _NamedItemsStream(ChildStream):
    """A listing of references, each read again for its value (formulas, controls)."""

    kind: t.ClassVar[str]  # "formula" / "control"

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        assert context is not None
        if self.settings.dry_run:
            return
        doc_id = context["doc_id"]
        refs = list(
            self.guarded(
                context,
                self.request_records(context),
                object_type=f"{self.kind}s",
                object_id=None,
                name=f"{self.kind} listing",
            )
        )
        with ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix=self.name) as pool:
            details = list(pool.map(lambda ref: self._detail(context, ref), refs))
        for item in details:
            if item is not None:
                if "value" in item:
                    item["value"] = schemas.json_text(item["value"])
                yield {**item, "doc_id": doc_id}

    def _detail(self, context: Context, ref: dict[str, t.Any]) -> dict[str, t.Any] | None:
        try:
            path = f"/docs/{segment(context['doc_id'])}/{self.kind}s/{segment(ref['id'])}"
            return dict(json_body(self.call("GET", path)))
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
        try:
            for permission in self.request_records(context):
                yield {**permission, "doc_id": context["doc_id"]}
        except OBJECT_ERRORS as exc:
            if is_forbidden(exc):
                self.skip_forbidden(context, "permissions", exc)
            else:
                self.fail(
                    context, exc, object_type="permissions", object_id=None, name="permissions"
                )


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
        record: dict[str, t.Any] = {"doc_id": context["doc_id"]}
        for part in ("settings", "metadata"):
            record[part] = None
            try:
                path = f"/docs/{segment(context['doc_id'])}/acl/{part}"
                record[part] = json_body(self.call("GET", path))
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
        yield from self.guarded(
            {},
            self.request_records(context),
            object_type="folders",
            object_id=None,
            name="folder listing",
        )
