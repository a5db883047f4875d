"""IndexedStateManager answers exactly as singer-sdk's StreamStateManager does."""

from __future__ import annotations

import copy
import random

import pytest
from singer_sdk.streams._state import StreamStateManager

from tap_coda.partitions import IndexedStateManager

KEYS = ["doc_id", "page_id", "format"]


def managers(state: dict) -> tuple[StreamStateManager, IndexedStateManager, dict, dict]:
    plain, indexed = copy.deepcopy(state), copy.deepcopy(state)
    kwargs = {"stream_name": "page_contents", "state_partitioning_keys": KEYS}
    return (
        StreamStateManager(tap_state=plain, **kwargs),
        IndexedStateManager(tap_state=indexed, **kwargs),
        plain,
        indexed,
    )


def context(rng: random.Random) -> dict:
    return {
        "doc_id": f"d{rng.randrange(3)}",
        "page_id": f"canvas-{rng.randrange(40)}",
        "format": rng.choice(["markdown", "html"]),
        "page_name": "not a partitioning key",
    }


@pytest.mark.parametrize("seed", range(5))
def test_same_partitions_same_state_as_singer_sdk(seed: int) -> None:
    rng = random.Random(seed)
    start = {"bookmarks": {"page_contents": {"partitions": []}}}
    for _ in range(20):  # an input state with some partitions already
        ctx = {k: v for k, v in context(rng).items() if k in KEYS}
        if ctx not in [p["context"] for p in start["bookmarks"]["page_contents"]["partitions"]]:
            start["bookmarks"]["page_contents"]["partitions"].append(
                {"context": ctx, "replication_key_value": "2024-01-01"}
            )
    plain_mgr, indexed_mgr, plain, indexed = managers(start)
    for step in range(500):
        ctx = context(rng)
        a, b = plain_mgr.get_context_state(ctx), indexed_mgr.get_context_state(ctx)
        assert a == b
        a["replication_key_value"] = b["replication_key_value"] = f"v{step}"
        if step % 97 == 0:  # someone else appends a partition behind the index's back
            extra = {"context": {"doc_id": "dx", "page_id": f"p{step}", "format": "html"}}
            for state in (plain, indexed):
                state["bookmarks"]["page_contents"]["partitions"].append(copy.deepcopy(extra))
        assert plain == indexed


def test_duplicate_partitions_raise_as_in_singer_sdk() -> None:
    ctx = {"doc_id": "d", "page_id": "p", "format": "markdown"}
    dup = {"bookmarks": {"page_contents": {"partitions": [{"context": ctx}, {"context": ctx}]}}}
    plain_mgr, indexed_mgr, _, _ = managers(dup)
    with pytest.raises(ValueError, match="duplicate"):
        plain_mgr.get_context_state(ctx)
    with pytest.raises(ValueError, match="duplicate"):
        indexed_mgr.get_context_state(ctx)
