"""JSON schemas of the streams: permissive, because the live API is looser than its spec.

Every record schema allows additional properties, so fields Coda adds (or the spec lacks,
such as `docSize.baseTableCount`) reach the target untouched. Enums are plain strings
(`contentType: "table"` exists live). Nested API objects are open objects.
"""

from __future__ import annotations

import typing as t

import simplejson
from singer_sdk import typing as th

STR = th.StringType


def OBJ() -> th.CustomType:  # noqa: N802 - reads as the type it stands for, like th.*Type
    """An open object: any JSON object passes. Declared without `properties` (which
    `th.ObjectType()` writes as `{}`): singer-sdk's flattening drops a property whose
    `properties` are empty, and keeps one without them as a JSON string (issue #15)."""
    return th.CustomType({"type": ["object"], "additionalProperties": True})


#: An open object inside an array keeps its `properties: {}`: singer-sdk's recursive
#: conformance needs them there, and flattening keeps arrays whole as JSON anyway.
ITEM = th.ObjectType

TS = th.DateTimeType


def open_schema(*properties: th.Property[t.Any]) -> dict[str, t.Any]:
    schema = th.PropertiesList(*properties).to_dict()
    schema["additionalProperties"] = True
    return schema


def _api_object(
    *extra: th.Property[t.Any], browser_link: bool = True
) -> tuple[th.Property[t.Any], ...]:
    return (
        th.Property("id", STR, required=True),
        th.Property("type", STR),
        th.Property("href", STR),
        *([th.Property("browserLink", STR)] if browser_link else []),
        th.Property("name", STR),
        *extra,
    )


DOC = open_schema(
    *_api_object(
        th.Property("owner", STR),
        th.Property("ownerName", STR),
        th.Property("icon", OBJ()),
        th.Property("docSize", OBJ()),
        th.Property("sourceDoc", OBJ()),
        th.Property("published", OBJ()),
        th.Property("folder", OBJ()),
        th.Property("workspace", OBJ()),
        th.Property("workspaceId", STR),
        th.Property("folderId", STR),
        th.Property("createdAt", TS),
        th.Property("updatedAt", TS),
    )
)

PAGE = open_schema(
    th.Property("doc_id", STR, required=True),
    *_api_object(
        th.Property("subtitle", STR),
        th.Property("icon", OBJ()),
        th.Property("image", OBJ()),
        th.Property("contentType", STR),
        th.Property("isHidden", th.BooleanType),
        th.Property("isEffectivelyHidden", th.BooleanType),
        th.Property("parent", OBJ()),
        th.Property("children", th.ArrayType(ITEM())),
        th.Property("authors", th.ArrayType(ITEM())),
        th.Property("createdAt", TS),
        th.Property("createdBy", OBJ()),
        th.Property("updatedAt", TS),
        th.Property("updatedBy", OBJ()),
    ),
)

PAGE_CONTENT = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("page_id", STR, required=True),
    th.Property("format", STR, required=True, allowed_values=["markdown", "html"]),
    th.Property("page_updatedAt", TS),
    th.Property("content", STR),
    th.Property("content_base64", STR),  # an export that is not UTF-8, as served
    th.Property("parts", th.IntegerType),  # a large export: sent before, in this many parts
)

PAGE_CONTENT_PART = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("page_id", STR, required=True),
    th.Property("format", STR, required=True, allowed_values=["markdown", "html"]),
    th.Property("seq", th.IntegerType, required=True),
    th.Property("content", STR),
    th.Property("content_base64", STR),
)

TABLE = open_schema(
    th.Property("doc_id", STR, required=True),
    *_api_object(
        th.Property("tableType", STR),
        th.Property("parent", OBJ()),
        th.Property("parentTable", OBJ()),
        th.Property("displayColumn", OBJ()),
        th.Property("rowCount", th.IntegerType),
        th.Property("sorts", th.ArrayType(ITEM())),
        th.Property("layout", STR),
        th.Property("filter", OBJ()),
        th.Property("createdAt", TS),
        th.Property("updatedAt", TS),
    ),
)

COLUMN = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("table_id", STR, required=True),
    th.Property("position", th.IntegerType, required=True),
    *_api_object(
        th.Property("display", th.BooleanType),
        th.Property("calculated", th.BooleanType),
        th.Property("formula", STR),
        th.Property("defaultValue", STR),
        th.Property("format", OBJ()),
        browser_link=False,
    ),
)

ROW = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("table_id", STR, required=True),
    *_api_object(
        th.Property("index", th.IntegerType),
        th.Property("createdAt", TS),
        th.Property("updatedAt", TS),
        th.Property("values", OBJ()),
    ),
    # "table" or "view": a view repeats its table's rows (count one of them).
    th.Property("table_type", STR),
)

TABLE_SYNC = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("table_id", STR, required=True),
    th.Property("table_type", STR),
    th.Property(
        "mode", STR, required=True, allowed_values=["full", "delta", "unchanged", "failed"]
    ),
    th.Property("rows_emitted", th.IntegerType, required=True),
    th.Property("row_count", th.IntegerType),
)

FAILURE = open_schema(
    # The key: a digest of what failed (kind, object_type, doc_id, object_id, format).
    th.Property("id", STR, required=True),
    # "skip": Coda can never serve the object (`reason` says why); "failure": it broke.
    th.Property("kind", STR, required=True, allowed_values=["failure", "skip", "warning"]),
    th.Property("reason", STR),  # unexportable_page / over_api_size_limit; null for failures
    th.Property("object_type", STR, required=True),
    th.Property("doc_id", STR),
    th.Property("object_id", STR),
    th.Property("name", STR),
    th.Property("format", STR),
    th.Property("error", STR, required=True),
    th.Property("http_status", th.IntegerType),
    th.Property("attempts", th.IntegerType),
)

#: Coda's `Value` (a string, number or boolean, or a (nested) list of them) as its JSON
#: text. singer-sdk's flattening turns any union holding `array` into a string column and
#: then refuses numbers and booleans (0.54.9 `_flatten_schema`); a string of JSON loads
#: everywhere and keeps the value exact (`value::jsonb`). target-files decodes it again.
JSON_MEDIA_TYPE = "application/json"
VALUE = th.CustomType({"type": ["string", "null"], "contentMediaType": JSON_MEDIA_TYPE})


def json_text(value: t.Any) -> str | None:
    """A `VALUE` property's text: compact JSON, unicode kept, a Decimal as the digits Coda
    sent; null stays null."""
    if value is None:
        return None
    text: str = simplejson.dumps(value, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    return text


# A named formula or a control as `GET …/formulas/{id}` / `…/controls/{id}` serve it.
FORMULA = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("id", STR, required=True),
    th.Property("type", STR),
    th.Property("href", STR),
    th.Property("name", STR),
    th.Property("parent", OBJ()),
    th.Property("value", VALUE),
)

CONTROL = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("id", STR, required=True),
    th.Property("type", STR),
    th.Property("href", STR),
    th.Property("name", STR),
    th.Property("parent", OBJ()),
    th.Property("controlType", STR),
    th.Property("value", VALUE),
)

PERMISSION = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("id", STR, required=True),
    th.Property("access", STR),
    th.Property("principal", OBJ()),
)

SHARING = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("settings", OBJ()),  # null: Coda refused it (a doc shared with you)
    th.Property("metadata", OBJ()),
)

FOLDER = open_schema(
    *_api_object(
        th.Property("description", STR),
        th.Property("icon", OBJ()),
        th.Property("createdAt", TS),
        th.Property("canEdit", th.BooleanType),
        th.Property("workspace", OBJ()),
    )
)

# An image or attachment of a doc: chunk records (`kind: chunk`, `seq` 0…, base64 `data`),
# then one `kind: file` record with the digest, size and who refers to it (tap_coda.assets).
ASSET = open_schema(
    th.Property("doc_id", STR, required=True),
    th.Property("key", STR, required=True),  # the URL without its query: the file's identity
    th.Property("seq", th.IntegerType, required=True),
    th.Property("kind", STR, required=True, allowed_values=["chunk", "file"]),
    th.Property("url", STR),  # as found (signed links carry their query)
    th.Property("data", STR),
    th.Property("name", STR),
    th.Property("sha256", STR),
    th.Property("size", th.IntegerType),
    th.Property("content_type", STR),
    th.Property("referrers", th.ArrayType(STR)),
    th.Property("status", STR),
)
