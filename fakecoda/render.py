"""The exact JSON Coda's API returns for workspace objects (shapes: openapi.json v1.5.0);
rows and their cells are rendered in rowrender.py.

Live-API details the spec lacks are kept on purpose (NOTES.md §2, §3, §13.16):
`docSize.baseTableCount`, `contentType: "table"`, and no `Table.viewId`.
"""

from __future__ import annotations

import html
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from fakecoda.workspace import Column, Doc, Page, Table, Workspace

DEFAULT_BASE = "https://coda.io/apis/v1"
BROWSER = "https://coda.io"
SCHEMA_ORG = "http://schema.org/"


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Coda's bare error shape (NOTES §11); `message` repeats the phrase unless given."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"statusCode": status, "statusMessage": phrase, "message": message or phrase}


def slug(name: str) -> str:
    """Browser links carry a readable slug; hostile names must still give a valid URL."""
    return quote(re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-")[:40] or "Untitled", safe="-")


def simple_text(value: Any) -> str:
    """A cell as `simple` text: what row names and export tables show."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(simple_text(v) for v in value)
    return str(value)


def person(ws: Workspace, name: str) -> dict[str, Any]:
    return {"@context": SCHEMA_ORG, "@type": "Person", "name": name, "email": ws.email_of(name)}


# ---- links ---------------------------------------------------------------------------------


def doc_link(doc: Doc) -> str:
    return f"{BROWSER}/d/_d{doc.id}"


def page_link(doc: Doc, page: Page) -> str:
    return f"{doc_link(doc)}/{slug(page.name)}_su{page.id.rsplit('-', 1)[-1][-5:]}"


def table_link(doc: Doc, table: Table, page: Page | None) -> str:
    page_slug = slug(page.name) if page is not None else "Untitled"
    return f"{doc_link(doc)}/#{page_slug}_t{table.id.split('-', 1)[-1]}"


def page_of(doc: Doc, page_id: str | None) -> Page | None:
    return next((p for p in doc.pages if p.id == page_id), None)


# ---- objects -------------------------------------------------------------------------------


def user_json(ws: Workspace, base: str) -> dict[str, Any]:
    user = dict(ws.user)
    out: dict[str, Any] = {
        "name": user["name"],
        "loginId": user["loginId"],
        "type": "user",
        "scoped": bool(user.get("scoped", False)),
        "tokenName": user.get("tokenName", "backup"),
        "href": f"{base}/whoami",
        "workspace": user["workspace"],
    }
    if user.get("pictureLink"):
        out["pictureLink"] = user["pictureLink"]
    return out


def doc_json(ws: Workspace, doc: Doc, base: str) -> dict[str, Any]:
    base_tables = [t for t in doc.tables if t.table_type == "table"]
    out: dict[str, Any] = {
        "id": doc.id,
        "type": "doc",
        "href": f"{base}/docs/{doc.id}",
        "browserLink": doc_link(doc),
    }
    if doc.icon:
        out["icon"] = dict(doc.icon)
    out |= {
        "name": doc.name,
        "owner": doc.owner_email,
        "ownerName": doc.owner_name or doc.owner_email.split("@")[0],
        "docSize": {
            "totalRowCount": sum(len(t.rows) for t in base_tables),
            "tableAndViewCount": len(doc.tables),
            "pageCount": len(doc.pages),
            "overApiSizeLimit": doc.over_api_size_limit,
            "baseTableCount": len(base_tables),  # live-only field (NOTES §2)
        },
    }
    if doc.source_doc_id:
        out["sourceDoc"] = {
            "id": doc.source_doc_id,
            "type": "doc",
            "href": f"{base}/docs/{doc.source_doc_id}",
            "browserLink": f"{BROWSER}/d/_d{doc.source_doc_id}",
        }
    out |= {"createdAt": doc.created_at, "updatedAt": doc.updated_at}
    if doc.published:
        out["published"] = dict(doc.published)
    out |= {
        "folder": {
            "id": doc.folder_id,
            "type": "folder",
            "browserLink": f"{BROWSER}/folders/{doc.folder_id}",
            "name": doc.folder_name or "My docs",
        },
        "workspace": {
            "id": doc.workspace_id,
            "type": "workspace",
            "browserLink": f"{BROWSER}/docs?workspaceId={doc.workspace_id}",
            "name": doc.workspace_name,
        },
        "workspaceId": doc.workspace_id,
        "folderId": doc.folder_id,
    }
    return out


def page_ref(doc: Doc, page: Page, base: str) -> dict[str, Any]:
    return {
        "id": page.id,
        "type": "page",
        "href": f"{base}/docs/{doc.id}/pages/{page.id}",
        "browserLink": page_link(doc, page),
        "name": page.name,
    }


def page_json(ws: Workspace, doc: Doc, page: Page, base: str) -> dict[str, Any]:
    me = ws.user["name"]
    out = page_ref(doc, page, base)
    if page.subtitle:
        out["subtitle"] = page.subtitle
    if page.icon:
        out["icon"] = dict(page.icon)
    if page.image:
        out["image"] = dict(page.image)
    out |= {
        "contentType": page.content_type,
        "isHidden": page.is_hidden,
        "isEffectivelyHidden": ws.effectively_hidden(doc, page),
    }
    parent = page_of(doc, page.parent_id)
    if parent is not None:
        out["parent"] = page_ref(doc, parent, base)
    out |= {
        "children": [page_ref(doc, c, base) for c in ws.children(doc, page)],
        "authors": [person(ws, me)],
        "createdAt": page.created_at,
        "createdBy": person(ws, me),
        "updatedAt": page.updated_at,
        "updatedBy": person(ws, me),
    }
    return out


def table_ref(ws: Workspace, doc: Doc, table: Table, base: str) -> dict[str, Any]:
    page = page_of(doc, table.parent_page_id)
    out: dict[str, Any] = {
        "id": table.id,
        "type": "table",
        "tableType": table.table_type,
        "href": f"{base}/docs/{doc.id}/tables/{table.id}",
        "browserLink": table_link(doc, table, page),
        "name": table.name,
    }
    if page is not None:
        out["parent"] = page_ref(doc, page, base)
    return out


def column_ref(doc: Doc, table: Table, column_id: str, base: str) -> dict[str, Any]:
    return {
        "id": column_id,
        "type": "column",
        "href": f"{base}/docs/{doc.id}/tables/{table.id}/columns/{column_id}",
    }


def table_json(ws: Workspace, doc: Doc, table: Table, base: str) -> dict[str, Any]:
    out = table_ref(ws, doc, table, base)
    page = page_of(doc, table.parent_page_id)
    out["parent"] = (
        page_ref(doc, page, base)
        if page is not None
        else {
            "id": table.parent_page_id,
            "type": "page",
            "href": f"{base}/docs/{doc.id}/pages/{table.parent_page_id}",
            "browserLink": doc_link(doc),
            "name": "",
        }
    )
    if table.table_type == "view" and table.base_table_id:
        base_table = next((t for t in doc.tables if t.id == table.base_table_id), None)
        if base_table is not None:
            out["parentTable"] = table_ref(ws, doc, base_table, base)
    out |= {
        "displayColumn": column_ref(doc, table, table.display_column_id, base),
        "rowCount": len(ws.rows_of(doc, table)),
        "sorts": [
            {"column": column_ref(doc, table, col, base), "direction": direction}
            for col, direction in table.sorts
        ],
        "layout": table.layout,
    }
    if table.table_type == "view" and table.view_filter:
        # The API describes the filter formula but never returns its text (NOTES §5).
        out["filter"] = {
            "valid": True,
            "isVolatile": False,
            "hasUserFormula": False,
            "hasTodayFormula": False,
            "hasNowFormula": False,
        }
    out |= {"createdAt": table.created_at, "updatedAt": table.updated_at}
    return out


def column_format(ws: Workspace, doc: Doc, fmt: dict[str, Any], base: str) -> dict[str, Any]:
    out = dict(fmt)
    ref = out.get("table")
    if isinstance(ref, dict) and set(ref) == {"id"}:  # stored as a bare id; expanded here
        target = next((t for t in doc.tables if t.id == ref["id"]), None)
        if target is not None:
            out["table"] = table_ref(ws, doc, target, base)
        else:
            out["table"] = {
                "id": ref["id"],
                "type": "table",
                "tableType": "table",
                "href": f"{base}/docs/{doc.id}/tables/{ref['id']}",
                "browserLink": doc_link(doc),
                "name": "",
            }
    return out


def column_json(ws: Workspace, doc: Doc, table: Table, column: Column, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": column.id,
        "type": "column",
        "href": f"{base}/docs/{doc.id}/tables/{table.id}/columns/{column.id}",
        "name": column.name,
    }
    if column.id == table.display_column_id:
        out["display"] = True
    if column.calculated:
        out["calculated"] = True
        if column.formula:
            out["formula"] = column.formula
    if column.default_value is not None:
        out["defaultValue"] = column.default_value
    out["format"] = column_format(ws, doc, column.format, base)
    return out


# ---- page export ---------------------------------------------------------------------------


def _md_cell(value: Any) -> str:
    return simple_text(value).replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def export_content(ws: Workspace, doc: Doc, page: Page, output_format: str) -> str:
    """What an export of the page yields: its canvas plus the tables and views on it.

    Tables are part of the canvas, so their data changes the export while the page's
    `updatedAt` stays put (NOTES §13.9) — which is why the tap re-exports such pages.
    """
    tables = [t for t in doc.tables if t.parent_page_id == page.id]
    if output_format == "html":
        parts = [page.html]
        for table in tables:
            head = "".join(f"<th>{html.escape(c.name)}</th>" for c in table.columns)
            body = "".join(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(simple_text(r.values.get(c.id)))}</td>"
                    for c in table.columns
                )
                + "</tr>"
                for r in ws.rows_of(doc, table)
            )
            parts.append(
                f"<h3>{html.escape(table.name)}</h3>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            )
        text = "\n".join(p for p in parts if p)
        return text + "\n" if text else ""
    parts = [page.markdown.rstrip("\n")]
    for table in tables:
        lines = [
            f"**{table.name}**",
            "",
            "| " + " | ".join(_md_cell(c.name) for c in table.columns) + " |",
            "|" + " --- |" * len(table.columns),
        ]
        lines += [
            "| " + " | ".join(_md_cell(r.values.get(c.id)) for c in table.columns) + " |"
            for r in ws.rows_of(doc, table)
        ]
        parts.append("\n".join(lines))
    text = "\n\n".join(p for p in parts if p)
    return text + "\n" if text else ""  # an empty page exports as nothing
