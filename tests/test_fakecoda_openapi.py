"""Every kind of response the fake Coda API serves validates against Coda's OpenAPI spec.

The spec is `fakecoda/openapi.json`, a byte-for-byte copy of the shared v1.5.0
document. Each response is checked against the schema its operation declares for that
status, with OpenAPI 3.0 semantics (openapi-schema-validator's OAS30Validator, formats
checked, `$ref`s resolved inside the spec through `referencing`).

Two kinds of edits are applied to a copy of the spec, and nothing else (README.md):

1. Where the live API is known to be looser (NOTES.md §2, §3, §6, §13.16):
   `docSize.baseTableCount`, `contentType: "table"`, `Table.viewId` required but
   undefined, and the ColumnFormat discriminator lacking `email`/`link`/`reaction`.
2. Reading the spec's composition as its generator meant it. `allOf` is used as
   "extends" with `additionalProperties: false` on every part; JSON Schema checks each
   part alone, so even the spec's own `PersonValue` example fails (proved below). The
   parts are merged before validating. And `RichSingleValue`'s discriminator has no
   mapping while its `@type` values (`Person`, …) are not schema names, so the mapping
   is derived from each variant's `@type` enum.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import fakecoda
from fakecoda import (
    FakeCoda,
    Limit,
    RateLimits,
    Workspace,
    build_demo_workspace,
    build_test_workspace,
)
from fakecoda.assetdocs import build_asset_workspace
from fakecoda.typed import build_typed_workspace
from tests.fakes import StartFake

SPEC_PATH = Path(fakecoda.__file__).parent / "openapi.json"
SPEC_SHA256 = "ea24ab9a1d6310b2e0c0eaab82d61337bf1d7ac971e5b72aee2af99f7d4b2779"
URI = "urn:coda-openapi-1.5.0"
TOKEN = "fake-token-123"

DOC = "/docs/{docId}"
PAGES = f"{DOC}/pages"
PAGE = f"{PAGES}/{{pageIdOrName}}"
EXPORT = f"{PAGE}/export"
EXPORT_STATUS = f"{EXPORT}/{{requestId}}"
TABLES = f"{DOC}/tables"
TABLE = f"{TABLES}/{{tableIdOrName}}"
COLUMNS = f"{TABLE}/columns"
COLUMN = f"{COLUMNS}/{{columnIdOrName}}"
ROWS = f"{TABLE}/rows"
ROW = f"{ROWS}/{{rowIdOrName}}"


# ---- the spec, as validated ------------------------------------------------------------------


def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def relax_live_api(spec: dict[str, Any]) -> None:
    """The documented places where live responses are looser than the spec."""
    schemas = spec["components"]["schemas"]
    schemas["DocSize"]["properties"]["baseTableCount"] = {"type": "number"}
    schemas["PageType"]["enum"].append("table")
    schemas["Table"]["required"].remove("viewId")
    schemas["ColumnFormat"]["discriminator"]["mapping"].update(
        {
            "email": "#/components/schemas/EmailColumnFormat",
            "link": "#/components/schemas/LinkColumnFormat",
            "reaction": "#/components/schemas/SimpleColumnFormat",
        }
    )


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _merged(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k != "allOf"}
    properties = dict(out.pop("properties", {}))
    required = list(out.pop("required", []))
    closed = out.pop("additionalProperties", None) is False
    for ref in node["allOf"]:
        part = _resolve(spec, ref)
        if "allOf" in part:
            part = _merged(spec, part)
        for key, value in part.items():
            if key == "properties":
                properties.update(value)
            elif key == "required":
                required += [r for r in value if r not in required]
            elif key == "additionalProperties":
                closed = closed or value is False
            else:
                out.setdefault(key, value)
    if properties:
        out["properties"] = properties
    if required:
        out["required"] = required
    if closed:
        out["additionalProperties"] = False
    return out


def merge_all_of(spec: dict[str, Any]) -> None:
    """`allOf` as "extends": one object schema whose closed property set is the union."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        for key, value in list(node.items()):
            node[key] = walk(value)
        return _merged(spec, node) if "allOf" in node else node

    while '"allOf"' in json.dumps(spec["components"]):
        spec["components"] = walk(spec["components"])


def map_rich_discriminator(spec: dict[str, Any]) -> None:
    """RichSingleValue's variants, keyed by the `@type` each one declares."""
    rich = spec["components"]["schemas"]["RichSingleValue"]
    mapping = {}
    for branch in rich["oneOf"]:
        variant = _resolve(spec, branch)
        type_enum = variant.get("properties", {}).get("@type", {}).get("enum")
        if type_enum:
            mapping[type_enum[0]] = branch["$ref"]
    rich["discriminator"]["mapping"] = mapping


def validation_spec() -> dict[str, Any]:
    spec = copy.deepcopy(load_spec())
    relax_live_api(spec)
    merge_all_of(spec)
    map_rich_discriminator(spec)
    return spec


def _registry(spec: dict[str, Any]) -> Registry:
    return Registry().with_resource(URI, Resource.from_contents(spec, default_specification=DRAFT4))


class Spec:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.registry = _registry(spec)
        self._validators: dict[str, OAS30Validator] = {}

    def pointer(self, path: str, method: str, status: int) -> str:
        response = self.spec["paths"][path][method]["responses"][str(status)]
        if "$ref" in response:
            base = response["$ref"]
        else:
            escaped = path.replace("~", "~0").replace("/", "~1")
            base = f"#/paths/{escaped}/{method}/responses/{status}"
        return f"{base}/content/application~1json/schema"

    def errors(self, instance: Any, path: str, method: str, status: int) -> list[str]:
        pointer = self.pointer(path, method, status)
        validator = self._validators.get(pointer)
        if validator is None:
            validator = OAS30Validator(
                {"$ref": URI + pointer},
                registry=self.registry,
                format_checker=OAS30Validator.FORMAT_CHECKER,
            )
            self._validators[pointer] = validator
        out = []
        for error in validator.iter_errors(instance):
            leaves = error.context or [error]
            out += [f"{list(leaf.absolute_path)}: {leaf.message[:300]}" for leaf in leaves]
        return out

    def check(self, response: requests.Response, path: str, method: str = "get") -> Any:
        body = response.json()
        errors = self.errors(body, path, method, response.status_code)
        assert not errors, f"{method.upper()} {path} {response.status_code}:\n" + "\n".join(
            errors[:20]
        )
        return body


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(validation_spec())


# ---- the fakes under test ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_fake(start_module_fake: StartFake) -> Iterator[FakeCoda]:
    with start_module_fake(build_test_workspace(seed=0), token=TOKEN, page_clamp=3) as fake:
        yield fake


@pytest.fixture(scope="module")
def api(test_fake: FakeCoda) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        yield session


def walk_list(api: requests.Session, url: str, **params: Any) -> Iterator[requests.Response]:
    """Every page of a listing, following nextPageToken."""
    response = api.get(url, params=params)
    yield response
    while "nextPageToken" in response.json():
        response = api.get(url, params={"pageToken": response.json()["nextPageToken"]})
        yield response


def readable_docs(ws: Workspace) -> list[str]:
    return [d.id for d in ws.docs if not d.over_api_size_limit]


# ---- the vendored spec ---------------------------------------------------------------------------


def test_vendored_spec_is_the_shared_one_byte_for_byte() -> None:
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SPEC_SHA256
    shared = Path("/work/shared/coda-api/openapi.json")
    if shared.exists():
        assert shared.read_bytes() == SPEC_PATH.read_bytes()


def test_raw_spec_rejects_its_own_person_example_hence_the_merge() -> None:
    """Why `allOf` parts are merged: unmerged, the spec refuses a minimal PersonValue."""
    person = {"@context": "http://schema.org/", "@type": "Person", "name": "Alice Atkins"}
    validator = OAS30Validator(
        {"$ref": f"{URI}#/components/schemas/PersonValue"}, registry=_registry(load_spec())
    )
    assert not validator.is_valid(person)
    merged = validation_spec()
    validator = OAS30Validator(
        {"$ref": f"{URI}#/components/schemas/PersonValue"}, registry=_registry(merged)
    )
    assert validator.is_valid(person)
    assert not validator.is_valid({**person, "nickname": "unknown fields stay refused"})


def test_the_checks_have_teeth(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    """Controls: unknown fields, nulls and wrong enum values are still refused."""
    doc = api.get(f"{test_fake.url}/docs/{test_fake.workspace.tags['doc.main']}").json()
    assert not spec.errors(doc, DOC, "get", 200)
    assert spec.errors({**doc, "surprise": 1}, DOC, "get", 200)
    assert spec.errors({**doc, "updatedAt": "yesterday"}, DOC, "get", 200)
    ws = test_fake.workspace
    main, tasks = ws.tags["doc.main"], ws.tags["table.tasks"]
    rows = api.get(f"{test_fake.url}/docs/{main}/tables/{tasks}/rows").json()
    row = rows["items"][0]
    assert not spec.errors(rows, ROWS, "get", 200)
    broken = {**row, "values": {**row["values"], "c-x": None}}
    assert spec.errors({"items": [broken]}, ROWS, "get", 200)
    table = api.get(f"{test_fake.url}/docs/{main}/tables/{tasks}").json()
    assert spec.errors({**table, "layout": "spreadsheet"}, TABLE, "get", 200)


def test_relaxations_are_exactly_the_documented_four() -> None:
    raw, relaxed = load_spec(), copy.deepcopy(load_spec())
    relax_live_api(relaxed)
    changed = {
        name
        for name, schema in relaxed["components"]["schemas"].items()
        if schema != raw["components"]["schemas"][name]
    }
    assert changed == {"DocSize", "PageType", "Table", "ColumnFormat"}
    assert relaxed["paths"] == raw["paths"]


# ---- responses -----------------------------------------------------------------------------------


def test_whoami(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    spec.check(api.get(f"{test_fake.url}/whoami"), "/whoami")


@pytest.mark.parametrize("params", [{}, {"isOwner": "true"}, {"workspaceId": "ws-Personal2"}])
def test_doc_list(
    spec: Spec, api: requests.Session, test_fake: FakeCoda, params: dict[str, str]
) -> None:
    pages = list(walk_list(api, f"{test_fake.url}/docs", **params))
    assert len(pages) > 1 or params
    for response in pages:
        spec.check(response, "/docs")


def test_every_doc(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    for doc in test_fake.workspace.docs:  # unlisted and over-size docs too
        body = spec.check(api.get(f"{test_fake.url}/docs/{doc.id}"), DOC)
        assert body["docSize"]["overApiSizeLimit"] is doc.over_api_size_limit


def test_pages_and_tables_of_every_doc(
    spec: Spec, api: requests.Session, test_fake: FakeCoda
) -> None:
    ws = test_fake.workspace
    for doc_id in readable_docs(ws):
        for response in walk_list(api, f"{test_fake.url}/docs/{doc_id}/pages"):
            for page in spec.check(response, PAGES)["items"]:
                spec.check(api.get(page["href"]), PAGE)
        types = {"tableTypes": "table,view"}
        for response in walk_list(api, f"{test_fake.url}/docs/{doc_id}/tables", **types):
            for ref in spec.check(response, TABLES)["items"]:
                spec.check(api.get(ref["href"]), TABLE)


def test_columns_of_every_table(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    ws = test_fake.workspace
    for doc_id in readable_docs(ws):
        for table in ws.doc(doc_id).tables:
            url = f"{test_fake.url}/docs/{doc_id}/tables/{table.id}/columns"
            for response in walk_list(api, url, limit=500):
                items = spec.check(response, COLUMNS)["items"]
            column = items[-1]
            spec.check(api.get(column["href"]), COLUMN)


@pytest.mark.parametrize("value_format", ["simple", "simpleWithArrays", "rich"])
def test_rows_of_every_table(
    spec: Spec, api: requests.Session, test_fake: FakeCoda, value_format: str
) -> None:
    ws = test_fake.workspace
    for doc_id in readable_docs(ws):
        for table in ws.doc(doc_id).tables:
            url = f"{test_fake.url}/docs/{doc_id}/tables/{table.id}/rows"
            last: dict[str, Any] = {}
            for response in walk_list(api, url, valueFormat=value_format, limit=50):
                last = spec.check(response, ROWS)
            if last["items"]:
                row = last["items"][-1]
                spec.check(api.get(row["href"], params={"valueFormat": value_format}), ROW)
            delta = api.get(url, params={"syncToken": last["nextSyncToken"]})
            assert spec.check(delta, ROWS)["items"] == []


@pytest.mark.parametrize("value_format", ["simpleWithArrays", "rich"])
def test_rows_of_the_typed_workspace(start_fake: StartFake, spec: Spec, value_format: str) -> None:
    ws = build_typed_workspace(rows=12)
    with start_fake(ws, token=TOKEN, page_clamp=100) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        for doc, table in ws.iter_tables():
            url = f"{fake.url}/docs/{doc.id}/tables/{table.id}"
            spec.check(s.get(f"{url}/rows", params={"valueFormat": value_format}), ROWS)
            spec.check(s.get(f"{url}/columns"), COLUMNS)


def test_rows_of_the_demo_workspace_in_rich(start_fake: StartFake, spec: Spec) -> None:
    ws = build_demo_workspace()
    with start_fake(ws, token=TOKEN, page_clamp=100) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        for doc, table in ws.iter_tables():
            url = f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows"
            spec.check(s.get(url, params={"valueFormat": "rich"}), ROWS)
            spec.check(s.get(f"{fake.url}/docs/{doc.id}/tables/{table.id}"), TABLE)


def test_export_flow(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    ws = test_fake.workspace
    for tag in ("page.launch", "page.export_fails"):
        doc, page = ws.tagged(tag)
        url = f"{test_fake.url}/docs/{doc.id}/pages/{page.id}/export"
        begun = spec.check(api.post(url, json={"outputFormat": "markdown"}), EXPORT, "post")
        assert begun["status"] == "inProgress"
        lag = api.get(begun["href"])
        assert lag.status_code == 404
        spec.check(lag, EXPORT_STATUS)
        done = spec.check(api.get(begun["href"]), EXPORT_STATUS)
        assert done["status"] == ("failed" if page.export_fails else "complete")


def test_export_in_progress(start_fake: StartFake, spec: Spec) -> None:
    ws = build_test_workspace(seed=0)
    config = {"export_seconds": 60, "first_poll_404": False}
    with start_fake(ws, token=TOKEN, **config) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        doc, page = ws.tagged("page.launch")
        url = f"{fake.url}/docs/{doc.id}/pages/{page.id}/export"
        begun = s.post(url, json={"outputFormat": "html"}).json()
        assert spec.check(s.get(begun["href"]), EXPORT_STATUS)["status"] == "inProgress"


def test_export_of_a_sync_page_is_a_400(
    spec: Spec, api: requests.Session, test_fake: FakeCoda
) -> None:
    doc, page = test_fake.workspace.tagged("page.sync")
    url = f"{test_fake.url}/docs/{doc.id}/pages/{page.id}/export"
    response = api.post(url, json={"outputFormat": "markdown"})
    assert response.status_code == 400
    spec.check(response, EXPORT, "post")


def test_error_bodies(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    ws = test_fake.workspace
    url = test_fake.url
    main = ws.tags["doc.main"]
    tasks = ws.tags["table.tasks"]

    unauthorized = requests.get(f"{url}/whoami", headers={"Authorization": "Bearer nope"})
    assert unauthorized.status_code == 401
    spec.check(unauthorized, "/whoami")

    missing = api.get(f"{url}/docs/no-such-doc")
    assert missing.status_code == 404
    spec.check(missing, DOC)

    too_big = api.get(f"{url}/docs/{ws.tags['doc.too_big']}/pages")
    assert too_big.status_code == 403
    spec.check(too_big, PAGES)

    bad_token = api.get(f"{url}/docs/{main}/tables/{tasks}/rows", params={"syncToken": "bogus"})
    assert bad_token.status_code == 400
    assert spec.check(bad_token, ROWS)["message"] == "Invalid pageToken."

    rows = f"{url}/docs/{main}/tables/{tasks}/rows"
    not_latest = api.get(rows, headers={"X-Coda-Doc-Version": "2"})
    assert not_latest.status_code == 400
    assert spec.check(not_latest, ROWS)["message"] == "Doc is not yet up to date."


def test_gone_page_is_a_410(start_fake: StartFake, spec: Spec) -> None:
    ws = build_test_workspace(seed=0)
    with start_fake(ws, token=TOKEN) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        doc, page = ws.tagged("page.deepest")
        ws.delete_page(doc.id, page.id)
        gone = s.get(f"{fake.url}/docs/{doc.id}/pages/{page.id}")
        assert gone.status_code == 410
        spec.check(gone, PAGE)


def test_rate_limited_is_a_429(start_fake: StartFake, spec: Spec) -> None:
    limits = RateLimits(read=Limit(1, 60.0))
    with (
        start_fake(build_test_workspace(seed=0), token=TOKEN, rate_limits=limits) as fake,
        requests.Session() as s,
    ):
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        assert s.get(f"{fake.url}/whoami").status_code == 200
        limited = s.get(f"{fake.url}/whoami")
        assert limited.status_code == 429
        assert "Retry-After" not in limited.headers
        spec.check(limited, "/whoami")


# ---- writes (restore) ----------------------------------------------------------------------------

MUTATION = "/mutationStatus/{requestId}"


def confirmed(spec: Spec, s: requests.Session, fake: FakeCoda, request_id: str) -> Any:
    """mutationStatus until `completed` (its first poll is a 404: replication lag)."""
    url = f"{fake.url}/mutationStatus/{request_id}"
    lag = s.get(url)
    assert lag.status_code == 404
    spec.check(lag, MUTATION)
    for _ in range(50):
        status = spec.check(s.get(url), MUTATION)
        if status["completed"]:
            return status
    raise AssertionError(f"mutation {request_id} never completed")


def test_doc_and_page_writes(start_fake: StartFake, spec: Spec) -> None:
    ws = build_test_workspace(seed=0)
    with start_fake(ws, token=TOKEN) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        first = {"name": "Home", "pageContent": _canvas("markdown", "# Home\n")}
        created = s.post(f"{fake.url}/docs", json={"title": "Copy", "initialPage": first})
        assert created.status_code == 201
        doc = spec.check(created, "/docs", "post")
        page = {
            "name": "Child",
            "subtitle": "sub",
            "iconName": "rocket",
            "parentPageId": ws.doc(doc["id"]).pages[0].id,
            "pageContent": _canvas("html", "<h1>Child</h1>\n<p>text</p>"),
        }
        begun = s.post(f"{fake.url}/docs/{doc['id']}/pages", json=page)
        assert begun.status_code == 202
        body = spec.check(begun, PAGES, "post")
        confirmed(spec, s, fake, body["requestId"])
        got = spec.check(s.get(f"{fake.url}/docs/{doc['id']}/pages/{body['id']}"), PAGE)
        assert (got["subtitle"], got["icon"]["name"], got["parent"]["id"]) == (
            "sub",
            "rocket",
            page["parentPageId"],
        )
        update = s.put(f"{fake.url}/docs/{doc['id']}/pages/{body['id']}", json={"isHidden": True})
        confirmed(spec, s, fake, spec.check(update, PAGE, "put")["requestId"])
        assert ws.page(doc["id"], body["id"]).is_hidden


def _canvas(fmt: str, content: str) -> dict[str, Any]:
    return {"type": "canvas", "canvasContent": {"format": fmt, "content": content}}


def test_row_writes(start_fake: StartFake, spec: Spec) -> None:
    ws = build_test_workspace(seed=0)
    with start_fake(ws, token=TOKEN) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        doc, table = ws.tagged("table.backlog")
        rows = f"{fake.url}/docs/{doc.id}/tables/{table.id}/rows"
        item = table.columns[0].id
        cells = {"cells": [{"column": item, "value": "restored"}]}
        added = spec.check(s.post(rows, json={"rows": [cells]}), ROWS, "post")
        assert len(added["addedRowIds"]) == 1
        keyed = s.post(rows, json={"rows": [cells], "keyColumns": [item]})
        assert "addedRowIds" not in spec.check(keyed, ROWS, "post")
        row_id = table.rows[0].id
        put = s.put(f"{rows}/{row_id}", json={"row": cells})
        spec.check(put, ROW, "put")
        one = spec.check(s.delete(f"{rows}/{table.rows[1].id}"), ROW, "delete")
        many = spec.check(s.delete(rows, json={"rowIds": [table.rows[2].id]}), ROWS, "delete")
        for request_id in (added, keyed.json(), put.json(), one, many):
            confirmed(spec, s, fake, request_id["requestId"])


def test_refused_writes(start_fake: StartFake, spec: Spec) -> None:
    ws = build_test_workspace(seed=0)
    with start_fake(ws, token=TOKEN) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        doc, tasks = ws.tagged("table.tasks")
        _, view = ws.tagged("view.open_tasks")
        score = next(c for c in tasks.columns if c.calculated)
        base = f"{fake.url}/docs/{doc.id}/tables"
        cells = {"cells": [{"column": score.id, "value": 3}]}
        refused = [
            s.post(f"{base}/{view.id}/rows", json={"rows": [{"cells": []}]}),
            s.post(f"{base}/{tasks.id}/rows", json={"rows": [cells]}),
            s.post(f"{base}/{tasks.id}/rows", json={"rows": [big_row(tasks.columns[0].id)]}),
            s.post(f"{base}/{tasks.id}/rows", data=b"x" * (2 * 1024 * 1024 + 1)),
        ]
        for response in refused:
            assert response.status_code == 400
            spec.check(response, ROWS, "post")
    with start_fake(ws, token=TOKEN, read_only=True) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        forbidden = s.post(f"{fake.url}/docs/{doc.id}/pages", json={"name": "x"})
        assert forbidden.status_code == 403
        spec.check(forbidden, PAGES, "post")


def big_row(column_id: str) -> dict[str, Any]:
    return {"cells": [{"column": column_id, "value": "x" * 90_000}]}


def test_formulas_controls_and_sharing_of_every_doc(
    spec: Spec, api: requests.Session, test_fake: FakeCoda
) -> None:
    ws = test_fake.workspace
    seen_types: set[str] = set()
    for doc_id in readable_docs(ws):
        for kind, detail_path in (("formulas", "formulaIdOrName"), ("controls", "controlIdOrName")):
            listing = f"{DOC}/{kind}"
            for response in walk_list(api, f"{test_fake.url}/docs/{doc_id}/{kind}"):
                for ref in spec.check(response, listing)["items"]:
                    item = spec.check(api.get(ref["href"]), f"{listing}/{{{detail_path}}}")
                    seen_types.add(item.get("controlType") or type(item["value"]).__name__)
        sharing = f"{test_fake.url}/docs/{doc_id}/acl"
        spec.check(api.get(f"{sharing}/metadata"), f"{DOC}/acl/metadata")
        settings = api.get(f"{sharing}/settings")
        spec.check(settings, f"{DOC}/acl/settings")
        for response in walk_list(api, f"{sharing}/permissions"):
            spec.check(response, f"{DOC}/acl/permissions")
        assert (settings.status_code == 403) is (not ws.doc(doc_id).is_owner)
    # every Value shape and several control types were served
    assert {"float", "str", "bool", "list", "slider", "multiselect"} <= seen_types


def test_folders(spec: Spec, api: requests.Session, test_fake: FakeCoda) -> None:
    pages = list(walk_list(api, f"{test_fake.url}/folders"))
    assert len(pages) > 1
    for response in pages:
        for folder in spec.check(response, "/folders")["items"]:
            url = f"{test_fake.url}/folders/{folder['id']}"
            assert spec.check(api.get(url), "/folders/{folderId}") == folder


def test_pages_with_covers_and_rows_with_files(start_fake: StartFake, spec: Spec) -> None:
    ws = build_asset_workspace()
    with start_fake(ws, token=TOKEN) as fake, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        doc = ws.doc(ws.tags["doc.assets"])
        page = spec.check(s.get(f"{fake.url}/docs/{doc.id}/pages/{ws.tags['page.gallery']}"), PAGE)
        assert page["image"]["browserLink"].startswith(fake.asset_host.origin)  # type: ignore[union-attr]
        rows = f"{fake.url}/docs/{doc.id}/tables/{ws.tags['table.media']}/rows"
        for value_format in ("simple", "simpleWithArrays", "rich"):
            spec.check(s.get(rows, params={"valueFormat": value_format}), ROWS)
