"""The generic streams in warehouses: every one loads, flattened or not, values kept.

Flattening (singer-sdk's `flattening_enabled`) used to drop `rows.values`, `columns.format`
and every nested object (declared with empty `properties`), and turned the formulas' and
controls' union-typed `value` into a string column that then refused numbers;
target-duckdb's default `primary_key_required` refused the key-less `failures` stream.
Every stream of a plain (non-table-streams) catalog is loaded, assets included, and what
landed is compared with what the fake serves.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import re
import subprocess
import typing as t
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from fakecoda import FakeCoda, doclogic
from fakecoda.assetdocs import UNFETCHABLE
from fakecoda.typed import build_typed_workspace
from tap_coda.contentparts import NAME as PARTS
from tests.e2e.assetcase import FORMATS, key_of
from tests.e2e.tablestreams_run import TOKEN, discover, select, sync_args
from tests.e2e.warehouse import pg, pipe, table_rows, target_bin  # noqa: F401 - pg: fixture

if t.TYPE_CHECKING:
    from tests import pgserver
    from tests.fakes import StartFake


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    return start_module_fake(build_typed_workspace(rows=20, assets=True), token=TOKEN, page_clamp=7)


def generic_tap(fake: FakeCoda, workdir: Path) -> tuple[list[str], set[str]]:
    """The tap with every stream of a plain catalog selected, and the names of those that
    land."""
    assert fake.asset_host is not None
    settings = {
        "table_streams": False,
        "asset_hosts": [fake.asset_host.host],
        "page_formats": FORMATS,  # chart2x is in the HTML only
    }
    catalog = select(discover(fake, workdir, **settings), lambda _: True)
    # page_content_parts has records (and a SCHEMA) only for an export over 1 MiB: none here.
    names = {entry["stream"] for entry in catalog["streams"]} - {PARTS}
    return sync_args(fake, workdir, catalog, **settings), names


def served(fake: FakeCoda) -> dict[str, dict[tuple[str, ...], dict[str, t.Any]]]:
    """The objects of the streams whose records are Coda's objects (+ the tap's ids), by
    key, as the fake serves them now."""
    ws, base = fake.workspace, fake.url
    docs = [d for d in ws.docs if d.listed]
    out: dict[str, dict[tuple[str, ...], dict[str, t.Any]]] = defaultdict(dict)
    for doc in docs:
        out["docs"][doc.id,] = ws.api_doc(doc, base)
        for page in doc.pages:
            out["pages"][doc.id, page.id] = ws.api_page(doc, page, base)
        for table in doc.tables:
            out["tables"][doc.id, table.id] = ws.api_table(doc, table, base)
            for column in table.columns:
                out["columns"][doc.id, table.id, column.id] = ws.api_column(
                    doc, table, column, base
                )
            for row in ws.rows_of(doc, table):
                out["rows"][doc.id, table.id, row.id] = ws.api_row(doc, table, row, base=base)
        for kind in ("formulas", "controls"):
            for item in getattr(doc, kind):
                out[kind][doc.id, item.id] = doclogic.detail(doc, item, base)
        assert doc.sharing is not None
        for permission in doc.sharing.permissions:
            out["permissions"][doc.id, permission["id"]] = permission
        out["sharing"][doc.id,] = {
            "settings": doc.sharing.settings,
            "metadata": doc.sharing.metadata,
        }
    out["folders"] = {(f["id"],): f for f in doclogic.folders(ws)}
    return out


KEYS = {
    "docs": ("id",),
    "pages": ("doc_id", "id"),
    "tables": ("doc_id", "id"),
    "columns": ("doc_id", "table_id", "id"),
    "rows": ("doc_id", "table_id", "id"),
    "formulas": ("doc_id", "id"),
    "controls": ("doc_id", "id"),
    "permissions": ("doc_id", "id"),
    "sharing": ("doc_id",),
    "folders": ("id",),
}


#: A signed asset link, as the fake's API writes for each `coda-asset:<key>` it holds.
SIGNED = re.compile(
    r"http://127\.0\.0\.1:\d+/blobs/([A-Za-z0-9_-]+)/[^?\s\"]*\?exp=\d+(?:&|&amp;)sig=\w+"
)


def unsigned(text: str) -> str:
    """`text` with each signed asset link back to the placeholder the workspace holds."""
    return SIGNED.sub(r"coda-asset:\1", text)


def landed(value: t.Any, want: t.Any) -> t.Any:
    """A loaded cell in the served value's terms: JSON text decoded for objects, lists and
    JSON-text values; timestamps as ISO strings; numbers as numbers; asset links unsigned."""
    if isinstance(value, str):
        value = unsigned(value)
    if isinstance(value, str) and not isinstance(want, str):
        return json.loads(value)
    if isinstance(value, dt.datetime) and isinstance(want, str):
        parsed = dt.datetime.fromisoformat(want.replace("Z", "+00:00"))
        return want if value.replace(tzinfo=None) == parsed.replace(tzinfo=None) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def assert_objects_landed(
    stream: str, loaded: list[dict[str, t.Any]], truth: dict[tuple[str, ...], dict[str, t.Any]]
) -> None:
    """One row per served object; each served field that is a column holds its value (a
    formula's or control's `value` as its JSON text)."""
    assert truth, stream
    by_key = {tuple(str(row[k]) for k in KEYS[stream]): row for row in loaded}
    assert set(by_key) == set(truth), stream
    for key, want in truth.items():
        row = by_key[key]
        for field, value in want.items():
            if field in row:
                got = json.loads(row[field]) if field == "value" else landed(row[field], value)
                assert got == value, (stream, key, field)


def assert_every_stream_landed(
    fake: FakeCoda, tables: t.Callable[[str], list[dict[str, t.Any]]], streams: set[str]
) -> None:
    """Every stream's table holds what the fake serves (`tables(stream)`: its rows)."""
    ws = fake.workspace
    truth = served(fake)
    for stream in KEYS:
        assert_objects_landed(stream, tables(stream), truth[stream])
    pages = {
        (p.id, fmt): (d, p)
        for d, p in ((d, p) for d in ws.docs for p in d.pages)
        for fmt in FORMATS
    }
    contents = tables("page_contents")
    assert contents
    for content in contents:
        doc, page = pages[content["page_id"], content["format"]]
        assert unsigned(content["content"]) == ws.export_content(doc, page, content["format"])
    syncs = {(s["doc_id"], s["table_id"]): s for s in tables("table_syncs")}
    assert {k: int(s["rows_emitted"]) for k, s in syncs.items()} == {
        (d.id, tb.id): len(ws.rows_of(d, tb)) for d, tb in ws.iter_tables()
    }
    assets = tables("assets")
    files = {a["key"]: a for a in assets if a["kind"] == "file"}
    chunks: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for chunk in (a for a in assets if a["kind"] == "chunk"):
        chunks[chunk["key"]].append((int(chunk["seq"]), chunk["data"]))
    fetchable = {a.sha256(): a for k, a in ws.assets.items() if k not in UNFETCHABLE}
    assert {f["sha256"] for f in files.values()} == set(fetchable)
    for key, file in files.items():
        data = b"".join(base64.b64decode(d) for _, d in sorted(chunks[key]))
        assert hashlib.sha256(data).hexdigest() == file["sha256"]
        assert int(file["size"]) == fetchable[file["sha256"]].length
    failed = [f["object_id"] for f in tables("failures")]
    assert sorted(k for k in UNFETCHABLE for url in failed if key_of(k, url)) == sorted(UNFETCHABLE)
    assert len(failed) == len(UNFETCHABLE)
    assert streams == {*KEYS, "page_contents", "table_syncs", "assets", "failures"}


def test_every_generic_stream_loads_flattened_into_postgres_as_served(
    pg: pgserver.PgServer,  # noqa: F811 - the imported fixture
    fake: FakeCoda,
    tmp_path: Path,
) -> None:
    schema = "coda_flat"
    config = pg.target_config(
        default_target_schema=schema, flattening_enabled=True, flattening_max_depth=1
    )
    args, streams = generic_tap(fake, tmp_path)
    pipe(args, target_bin("postgres", "target-postgres"), config, tmp_path, TOKEN)
    assert_every_stream_landed(fake, lambda stream: table_rows(pg, schema, stream), streams)
    rows = table_rows(pg, schema, "rows")
    ws = fake.workspace
    kinds = Counter((r["table_id"], r["table_type"]) for r in rows)
    assert kinds == Counter(
        {(tb.id, tb.table_type): len(ws.rows_of(d, tb)) for d, tb in ws.iter_tables()}
    )


def test_every_generic_stream_loads_into_duckdb_with_its_default_config(
    fake: FakeCoda, tmp_path: Path
) -> None:
    target = target_bin("duckdb", "target-duckdb")
    database = tmp_path / "warehouse.duckdb"
    args, streams = generic_tap(fake, tmp_path)
    config = {"filepath": str(database), "default_target_schema": "coda"}
    pipe(args, target, config, tmp_path, TOKEN)
    script = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "out = {}\n"
        'for (name,) in c.execute("select table_name from information_schema.tables '
        "where table_schema = 'coda'\").fetchall():\n"
        "    cur = c.execute(f'select * from coda.{name}')\n"
        "    cols = [d[0] for d in cur.description]\n"
        "    out[name] = [dict(zip(cols, r)) for r in cur.fetchall()]\n"
        "print(json.dumps(out, default=str))"
    )
    done = subprocess.run(
        [str(target.parent / "python"), "-c", script, str(database)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    assert set(loaded) == streams
    assert_every_stream_landed(fake, loaded.__getitem__, streams)
