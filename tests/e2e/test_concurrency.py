"""Concurrency changes when requests are sent, never what is emitted."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from fakecoda import FakeCoda, build_test_workspace
from tap_coda.tap import DEFAULT_CONCURRENCY
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_tap

TOKEN = "fake-token-concurrency-31"


CLOCK_KEYS = {"time_extracted", "full_synced_at", "replication_key_signpost"}


def without_clock(value: Any) -> Any:
    """The message minus what only says when it was made."""
    if isinstance(value, dict):
        return {k: without_clock(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [without_clock(v) for v in value]
    return value


#: The reads `tap_coda.readahead` runs ahead of the sync (tables, columns, doc logic, ACL,
#: folders): the same requests, only earlier.
READ_AHEAD = re.compile(r"/(tables(/[^/]+(/columns)?)?|formulas.*|controls.*|acl/.*|folders)$")


def tap_stdout(fake: FakeCoda, tmp_path: Path, concurrency: int) -> str:
    config = {
        "api_url": fake.url,
        **FAST_TAP,
        "include_shared": True,
        "page_formats": ["markdown", "html"],
        "max_concurrency": concurrency,
    }
    result = run_tap(config, tmp_path, token=TOKEN)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def read_ahead_requests(fake: FakeCoda) -> Counter[tuple[str, str]]:
    """Each read-ahead request of the log (path and query), counted; then the log cleared."""
    found = Counter(
        (e.path, json.dumps(e.query, sort_keys=True)) for e in fake.log if READ_AHEAD.search(e.path)
    )
    fake.reset_log()
    return found


def normalized_stdout(fake: FakeCoda, tmp_path: Path, concurrency: int) -> list[str]:
    stdout = tap_stdout(fake, tmp_path, concurrency)
    lines = []
    for line in stdout.splitlines():
        message = json.loads(line)
        lines.append(json.dumps(without_clock(message), sort_keys=True))
    return lines


def test_concurrent_run_emits_exactly_what_a_sequential_run_emits(
    start_fake: StartFake, tmp_path: Path
) -> None:
    with start_fake(build_test_workspace(seed=3), token=TOKEN, page_clamp=3) as fake:
        sequential = (
            normalized_stdout(fake, tmp_path / "one", 1)
            if (tmp_path / "one").mkdir() is None
            else []
        )
        exports = fake.count(method="POST")
        read_sequentially = read_ahead_requests(fake)
        concurrent = (
            normalized_stdout(fake, tmp_path / "many", DEFAULT_CONCURRENCY)
            if (tmp_path / "many").mkdir() is None
            else []
        )
        read_ahead = read_ahead_requests(fake)
    assert sequential and exports > 0
    assert concurrent == sequential
    # read ahead, not read more: every request once, as the sequential run sent it
    assert read_sequentially and read_ahead == read_sequentially


def test_an_incremental_run_reads_the_doc_logic_of_the_next_docs_ahead(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """singer-sdk reaches a doc's formulas, controls and sharing only after the doc's other
    streams, and the next doc only after that; read ahead (an incremental run: not bound by
    exports), the next docs' listings are asked for while the first doc's formula values
    are still being read, which come a round trip after its own listing."""
    (tmp_path / "full").mkdir()
    (tmp_path / "again").mkdir()
    with start_fake(build_test_workspace(seed=3), token=TOKEN, page_clamp=3) as fake:
        first_run = tap_stdout(fake, tmp_path / "full", DEFAULT_CONCURRENCY)
        states = [json.loads(line) for line in first_run.splitlines() if '"STATE"' in line]
        fake.reset_log()
        config = {"api_url": fake.url, **FAST_TAP, "include_shared": True}
        result = run_tap(config, tmp_path / "again", token=TOKEN, state=states[-1]["value"])
        assert result.returncode == 0, result.stderr[-2000:]
        log = list(fake.log)
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    docs = [m["record"]["id"] for m in messages if m.get("stream") == "docs" and "record" in m]

    def arrivals(doc_id: str, what: str) -> list[float]:
        return [e.ts for e in log if re.search(rf"/docs/{doc_id}/{what}$", e.path)]

    logic_docs = [doc_id for doc_id in docs if arrivals(doc_id, "formulas")]  # readable docs
    first, second = logic_docs[0], logic_docs[1]
    values = arrivals(first, "formulas/[^/]+")
    listing = arrivals(second, "formulas")
    assert values and listing
    assert min(listing) < max(values)
