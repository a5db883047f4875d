"""A doc's logic and sharing: named formulas, controls, ACL permissions and settings, folders.

The ground truth lives on each `Doc` (`formulas`, `controls`, `sharing`); folders are the
docs' folders. `furnish` gives every doc built by a builder a deterministic set covering
every value shape (`Value`: string, number, boolean, array, nested array) and every control
and principal type the spec names. Formula and control values change without any
`updatedAt` moving (`set_value`), as Coda's do. A doc shared with the caller (not owned)
answers 403 to `acl/permissions` and `acl/settings`: only people who may share see them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakecoda import render
from fakecoda.protocol import ApiError, ListingApi, Response, bool_param, dumps

if TYPE_CHECKING:
    from fakecoda.protocol import Request, Target
    from fakecoda.workspace import Doc, Workspace

NO_SHARING_RIGHTS = "You do not have permission to view the sharing settings of this doc."


@dataclass
class NamedValue:
    """A named canvas formula, or a control when `control_type` is set."""

    id: str
    name: str
    page_id: str | None
    value: Any
    control_type: str | None = None


@dataclass
class Sharing:
    permissions: list[dict[str, Any]] = field(default_factory=list)  # Permission objects
    settings: dict[str, bool] = field(default_factory=dict)
    metadata: dict[str, bool] = field(default_factory=dict)


#: Formula values, one per `Value` shape.
FORMULA_VALUES: tuple[tuple[str, Any], ...] = (
    ("Total budget", 12500.75),
    ("Launch owner", "Alice Atkins"),
    ("Is on track", True),
    ("Open task names", ["Write brief", "Book venue"]),
    ("Quarter grid", [[1, 2], [3, 4]]),
    ("Empty result", ""),
)
#: (name, controlType, value) for controls.
CONTROL_VALUES: tuple[tuple[str, str, Any], ...] = (
    ("Budget slider", "slider", 40),
    ("Show done", "checkbox", False),
    ("Region", "select", "EMEA"),
    ("Teams", "multiselect", ["Design", "Sales"]),
    ("Due date", "datePicker", "2026-03-20"),
    ("Period", "dateRangePicker", ["2026-03-01", "2026-03-31"]),
    ("Search", "textbox", "launch"),
    ("Rating", "scale", 4),
    ("Refresh", "button", ""),
)


def furnish(ws: Workspace) -> None:
    """Formulas, controls and sharing for every doc that has none (deterministic per doc)."""
    for doc in ws.docs:
        rng = random.Random(doc.id)
        page_ids: list[str | None] = [p.id for p in doc.pages if p.content_type == "canvas"] or [
            None
        ]
        if not doc.formulas:
            doc.formulas = [
                NamedValue(_id(rng, "f-"), name, rng.choice(page_ids), value)
                for name, value in FORMULA_VALUES
            ]
        if not doc.controls:
            doc.controls = [
                NamedValue(_id(rng, "ctrl-"), name, rng.choice(page_ids), value, kind)
                for name, kind, value in CONTROL_VALUES
            ]
        if doc.sharing is None:
            doc.sharing = _sharing(ws, doc, rng)


ID_LETTERS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(ID_LETTERS) for _ in range(8))


def _sharing(ws: Workspace, doc: Doc, rng: random.Random) -> Sharing:
    others = sorted(e for e in ws.people.values() if e != doc.owner_email)[:2]
    principals: list[tuple[dict[str, Any], str]] = [
        ({"type": "email", "email": doc.owner_email}, "write"),
        *(({"type": "email", "email": e}, "readonly") for e in others),
        ({"type": "group", "groupId": _id(rng, "grp-"), "groupName": "Launch team"}, "comment"),
        ({"type": "domain", "domain": "example.com"}, "readonly"),
        ({"type": "workspace", "workspaceId": doc.workspace_id}, "write"),
        ({"type": "anyone"}, "none"),
    ]
    return Sharing(
        permissions=[
            {"principal": principal, "id": _id(rng, "perm-"), "access": access}
            for principal, access in principals
        ],
        settings={
            "allowEditorsToChangePermissions": rng.random() < 0.5,
            "allowCopying": True,
            "allowViewersToRequestEditing": rng.random() < 0.5,
        },
        metadata={
            "canShare": doc.is_owner,
            "canShareWithWorkspace": doc.is_owner,
            "canShareWithOrg": False,
            "canCopy": True,
        },
    )


def set_value(ws: Workspace, doc_id: str, object_id: str, value: Any) -> NamedValue:
    """A formula's or control's value changes; no `updatedAt` moves (as in Coda)."""
    with ws.lock:
        doc = ws.doc(doc_id)
        for item in [*doc.formulas, *doc.controls]:
            if object_id in (item.id, item.name):
                item.value = value
                return item
    raise KeyError(object_id)


def folders(ws: Workspace) -> list[dict[str, Any]]:
    """The docs' folders, once each, in the order docs first name them."""
    seen: dict[str, dict[str, Any]] = {}
    for doc in ws.docs:
        folder = seen.get(doc.folder_id)
        if folder is None:
            seen[doc.folder_id] = {
                "id": doc.folder_id,
                "type": "folder",
                "name": doc.folder_name or "My docs",
                "browserLink": f"{render.BROWSER}/folders/{doc.folder_id}",
                "createdAt": doc.created_at,
                "canEdit": bool(doc.folder_name),
                "workspace": {
                    "id": doc.workspace_id,
                    "type": "workspace",
                    "browserLink": f"{render.BROWSER}/docs?workspaceId={doc.workspace_id}",
                    "name": doc.workspace_name,
                },
            }
        elif doc.created_at < folder["createdAt"]:
            folder["createdAt"] = doc.created_at
    return list(seen.values())


# ---- JSON as served -------------------------------------------------------------------------


def reference(doc: Doc, item: NamedValue, base: str) -> dict[str, Any]:
    kind = "control" if item.control_type else "formula"
    out: dict[str, Any] = {
        "id": item.id,
        "type": kind,
        "href": f"{base}/docs/{doc.id}/{kind}s/{item.id}",
        "name": item.name,
    }
    page = next((p for p in doc.pages if p.id == item.page_id), None)
    if page is not None:
        out["parent"] = render.page_ref(doc, page, base)
    return out


def detail(doc: Doc, item: NamedValue, base: str) -> dict[str, Any]:
    out = reference(doc, item, base)
    if item.control_type:
        out["controlType"] = item.control_type
    out["value"] = item.value
    return out


class DocLogicRoutes(ListingApi):
    """The handlers of formulas, controls, ACL and folders (`CodaApi` is one)."""

    def _named(self, req: Request, t: Target, kind: str) -> Response:
        items = t.doc.formulas if kind == "formulas" else t.doc.controls
        if t.key:
            item = next((i for i in items if i.id == t.key), None) or next(
                (i for i in items if i.name == t.key), None
            )
            if item is None:
                raise ApiError(404)
            return Response(200, dumps(detail(t.doc, item, self.base)))
        sort_by = req.query.get("sortBy")
        if sort_by not in (None, "name"):
            raise ApiError(400, f"Invalid value for sortBy: {sort_by!r}")
        scope = [t.doc.id]
        page = self._page_of_list(
            req, kind, scope, self.config.page_clamp, lambda: {"sortBy": sort_by}
        )
        listed = sorted(items, key=lambda i: i.name) if page.params.get("sortBy") else items
        refs = [reference(t.doc, i, self.base) for i in listed]
        return self._paged(refs, page, t, kind=kind, scope=scope)

    def _formulas(self, req: Request, t: Target) -> Response:
        return self._named(req, t, "formulas")

    def _controls(self, req: Request, t: Target) -> Response:
        return self._named(req, t, "controls")

    def _acl(self, req: Request, t: Target) -> Response:
        sharing = t.doc.sharing or Sharing()
        if t.key == "metadata":
            return Response(200, dumps(sharing.metadata))
        if t.key not in ("permissions", "settings"):
            raise ApiError(404)
        if not t.doc.is_owner:
            raise ApiError(403, NO_SHARING_RIGHTS)
        if t.key == "settings":
            return Response(200, dumps(sharing.settings))
        scope = [t.doc.id]
        page = self._page_of_list(req, "acl", scope, self.config.page_clamp, dict)
        return self._paged(sharing.permissions, page, t, kind="acl", scope=scope)

    def _list_folders(self, req: Request, t: Target) -> Response:
        def params() -> dict[str, Any]:
            bool_param(req.query, "isStarred")  # validated; the fake stars nothing
            return {"workspaceId": req.query.get("workspaceId")}

        page = self._page_of_list(req, "folders", [], self.config.page_clamp, params)
        items = folders(self.ws)
        if page.params.get("workspaceId"):
            items = [f for f in items if f["workspace"]["id"] == page.params["workspaceId"]]
        return self._paged(items, page, t, kind="folders", scope=[])

    def _get_folder(self, req: Request, t: Target) -> Response:
        folder = next((f for f in folders(self.ws) if f["id"] == t.key), None)
        if folder is None:
            raise ApiError(404)
        return Response(200, dumps(folder))
