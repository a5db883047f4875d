"""tap-coda's per-row path (`RowsStream`) against singer-sdk's own generic path.

The rows stream replaces two singer-sdk per-record hooks with cheaper ones that must
produce what singer-sdk would (tap_coda/streams.py). These tests call both on the same
rows, so a singer-sdk upgrade that changes either hook fails here, not in a backup.
"""

from __future__ import annotations

import copy
import random
import typing as t

import pytest
from singer_sdk import Stream

from tap_coda.tap import TapCoda

CONFIG = {"api_token": "fake-token-for-tests", "api_url": "http://127.0.0.1:9"}
CONTEXT = {"doc_id": "doc-1", "table_id": "grid-1"}


def rows_stream(catalog: dict | None = None) -> t.Any:
    tap = TapCoda(config=CONFIG, catalog=catalog, parse_env_config=False)
    return tap.streams["rows"]


def make_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        stamp = f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:0{rng.randint(0, 9)}.000Z"
        rows.append(
            {
                "id": f"i-{i}",
                "type": "row",
                "href": f"https://coda.io/apis/v1/docs/doc-1/tables/grid-1/rows/i-{i}",
                "name": f"Row {i}",
                "index": i,
                "createdAt": stamp,
                "updatedAt": stamp,
                "browserLink": f"https://coda.io/d/_ddoc-1#_rui-{i}",
                "values": {"c-a": f"text {i}", "c-b": i * 1.5, "c-c": [1, "two"], "c-d": None},
                **CONTEXT,
            }
        )
    return rows


def message_dicts(messages: t.Iterable[t.Any]) -> list[dict]:
    out = []
    for message in messages:
        as_dict = message.to_dict()
        assert as_dict.pop("time_extracted").tzinfo is not None
        out.append(as_dict)
    return out


def test_plain_rows_are_emitted_as_singer_sdk_would() -> None:
    ours, theirs = rows_stream(), rows_stream()
    assert ours._plain_records
    for row in make_rows(20, seed=1):
        mine = message_dicts(ours._generate_record_messages(copy.deepcopy(row)))
        sdk = message_dicts(Stream._generate_record_messages(theirs, copy.deepcopy(row)))
        assert mine == sdk
        assert mine[0]["record"] == row


def test_a_deselected_property_falls_back_to_singer_sdk() -> None:
    catalog = rows_stream()._tap.catalog_dict
    (entry,) = [s for s in catalog["streams"] if s["tap_stream_id"] == "rows"]
    for meta in entry["metadata"]:
        if meta["breadcrumb"] == ["properties", "browserLink"]:
            meta["metadata"]["selected"] = False
    stream = rows_stream(catalog)
    assert not stream._plain_records
    (message,) = stream._generate_record_messages(make_rows(1, seed=2)[0])
    assert "browserLink" not in message.record
    assert message.record["values"]["c-a"] == "text 0"


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_the_bookmark_ends_where_singer_sdks_would(seed: int) -> None:
    ours, theirs = rows_stream(), rows_stream()
    rows = make_rows(50, seed=seed)
    for row in rows:
        ours._increment_stream_state(row, context=CONTEXT)
        Stream._increment_stream_state(theirs, row, context=CONTEXT)
    ours._flush_bookmark(CONTEXT)
    mine, sdk = ours.get_context_state(CONTEXT), theirs.get_context_state(CONTEXT)
    assert mine == sdk
    progress = mine["progress_markers"]
    assert progress["replication_key_value"] == max(r["updatedAt"] for r in rows)
