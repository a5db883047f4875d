"""coda-backup's parts in isolation: the relay's cost, child log handling, state.json, dry run."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from coda_backup.childlog import ChildLog
from coda_backup.dryrun import Plan
from coda_backup.pipeline import relay
from coda_backup.progress import Console
from coda_backup.state import load_state, save_state


def singer_line(stream: str, record: dict) -> bytes:
    # singer-sdk's own serialisation: compact, keys in this order
    message = {"type": "RECORD", "stream": stream, "record": record}
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def test_relay_copies_every_byte_and_counts_records() -> None:
    lines = [
        b'{"type":"SCHEMA","stream":"rows","schema":{},"key_properties":[]}\n',
        singer_line("rows", {"id": "i-1"}),
        singer_line("rows", {"id": "i-2", "text": 'has "stream":"docs" inside'}),
        singer_line("docs", {"id": "d"}),
        b'{"type":"STATE","value":{"bookmarks":{}}}\n',
    ]
    sink = io.BytesIO()
    counts: dict[bytes, int] = {}
    relay(io.BytesIO(b"".join(lines)), sink, counts)
    assert sink.getvalue() == b"".join(lines)
    assert counts == {b"rows": 2, b"docs": 1}


def test_relay_counts_every_line_of_a_long_stream() -> None:
    """Its cost per line is measured in `python -m benchmarks.micro` (no timed assertion
    here: a loaded machine or a parallel run would fail it)."""
    row = {"id": "i-abc", "values": {"c-1": "hello", "c-2": 42, "c-3": ["a", "b"]}}
    n = 200_000
    source = io.BufferedReader(io.BytesIO(singer_line("rows", row) * n), 1 << 16)
    with Path(os.devnull).open("wb", buffering=1 << 16) as sink:
        counts: dict[bytes, int] = {}
        relay(source, sink, counts)
    assert counts == {b"rows": n}


def child_log(debug: bool = False) -> tuple[ChildLog, io.StringIO]:
    out = io.StringIO()
    return ChildLog("tap-coda", Console(out), debug=debug), out


def test_child_log_turns_a_fatal_error_into_one_line() -> None:
    log, out = child_log()
    log.handle("2026-01-01 10:00:00,000 | INFO     | tap-coda | Beginning full_table sync")
    log.handle(
        '2026-01-01 10:00:00,100 | INFO     | singer_sdk.metrics | METRIC: {"type": "timer"}'
    )
    log.handle(
        "2026-01-01 10:00:01,000 | ERROR    | tap-coda | tap-coda: Coda rejected the API token "
        "(401 Unauthorized): check CODA_API_TOKEN or --token-file"
    )
    assert "Beginning" in out.getvalue()  # ordinary lines pass through
    assert "METRIC" not in out.getvalue()  # metrics only at debug
    assert "401" not in out.getvalue()  # held back: the caller prints one line instead
    assert log.reason(1) == (
        "Coda rejected the API token (401 Unauthorized): check CODA_API_TOKEN or --token-file"
    )


def test_child_log_hides_a_traceback_behind_its_last_line() -> None:
    log, out = child_log()
    for line in ("Traceback (most recent call last):", '  File "x.py", line 1', "KeyError: 'x'"):
        log.handle(line)
    assert out.getvalue() == ""
    assert log.reason(1) == "KeyError: 'x' (--log-level debug shows the traceback)"
    log.flush_held()  # a run that succeeded anyway shows them at the end
    assert "Traceback" in out.getvalue()


def test_child_log_at_debug_shows_everything_at_once() -> None:
    log, out = child_log(debug=True)
    log.handle("2026-01-01 10:00:00,100 | INFO     | singer_sdk.metrics | METRIC: {}")
    log.handle("Traceback (most recent call last):")
    assert "METRIC" in out.getvalue()
    assert "Traceback" in out.getvalue()


def test_child_log_without_output_names_the_exit_code() -> None:
    log, _ = child_log()
    assert log.reason(-9) == "tap-coda exited with code -9"


# -- state.json ---------------------------------------------------------------------------------


def test_state_round_trip_is_private_and_tied_to_latest(tmp_path: Path) -> None:
    singer_state = {"bookmarks": {"rows": {"partitions": [{"context": {"table_id": "t"}}]}}}
    (tmp_path / "latest.txt").write_text("2026-03-07T101530Z\n", encoding="utf-8")
    (tmp_path / "2026-03-07T101530Z").mkdir()
    path = save_state(tmp_path, "2026-03-07T101530Z", singer_state)
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_state(tmp_path)
    assert loaded.singer_state == singer_state
    (tmp_path / "latest.txt").write_text("2026-03-08T000000Z\n", encoding="utf-8")
    assert "is missing" in (load_state(tmp_path).reason)
    (tmp_path / "2026-03-08T000000Z").mkdir()
    moved = load_state(tmp_path)
    assert moved.singer_state is None
    assert "belongs to run '2026-03-07T101530Z'" in moved.reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no state.json"),
        (b"\xff\xfe", "unreadable"),
        (b"{", "unreadable"),
        (b'{"run_id": "r"}', "not a coda-backup state file"),
    ],
)
def test_unusable_state_says_why(tmp_path: Path, content: bytes | None, reason: str) -> None:
    (tmp_path / "latest.txt").write_text("r\n", encoding="utf-8")
    (tmp_path / "r").mkdir()
    if content is not None:
        (tmp_path / "state.json").write_bytes(content)
    loaded = load_state(tmp_path)
    assert loaded.singer_state is None
    assert reason in loaded.reason


def test_no_latest_means_no_state(tmp_path: Path) -> None:
    save_state(tmp_path, "r", {"bookmarks": {}})
    assert "no previous run" in load_state(tmp_path).reason


# -- dry run ------------------------------------------------------------------------------------


def test_plan_reports_the_taps_decisions() -> None:
    """The plan only renders what the tap decided (dry_run records); it decides nothing."""
    records = {
        "docs": [{"id": "d"}],
        "pages": [
            {"doc_id": "d", "id": "p1", "contentType": "canvas", "updatedAt": "A"},
            {"doc_id": "d", "id": "p2", "contentType": "canvas", "updatedAt": "B"},
            {"doc_id": "d", "id": "p3", "contentType": "embed", "updatedAt": "C"},
        ],
        "tables": [
            {"doc_id": "d", "id": "t1", "rowCount": 3, "parent": {"id": "p2"}},
            {"doc_id": "d", "id": "t2", "rowCount": 1, "parent": {"id": "p1"}},
        ],
        "page_contents": [
            {"doc_id": "d", "page_id": "p2", "format": "markdown", "dry_run_reason": "table"}
        ],
        "table_syncs": [
            {"doc_id": "d", "table_id": "t1", "mode": "delta"},
            {"doc_id": "d", "table_id": "t2", "mode": "unchanged"},
        ],
    }
    plan = Plan(records, incremental=True, config={})
    assert plan.page_verdict("d", records["pages"][0]) == ("skip", "unchanged")
    assert plan.page_verdict("d", records["pages"][1]) == ("export", "a table on it changed")
    assert plan.page_verdict("d", records["pages"][2])[0] == "-"
    assert plan.table_verdicts[("d", "t1")] == ("read", "changed rows only")
    assert plan.table_verdicts[("d", "t2")] == ("skip", "unchanged")
    assert any("1 pages and 1 tables/views are unchanged" in line for line in plan.lines())


def test_state_of_another_backup_with_the_same_run_id_is_refused(tmp_path: Path) -> None:
    """Run ids are UTC seconds: two output folders can share one; their manifests differ."""
    from coda_backup.state import STATE_FILE, load_state, save_state

    run_id = "2026-03-07T101530Z"
    outputs = []
    for name in ("a", "b"):
        output = tmp_path / name
        (output / run_id).mkdir(parents=True)
        (output / run_id / "manifest.json").write_text(f'{{"backup": "{name}"}}')
        (output / "latest.txt").write_text(run_id)
        outputs.append(output)
    save_state(outputs[0], run_id, {"bookmarks": {"rows": {}}})
    assert load_state(outputs[0]).singer_state == {"bookmarks": {"rows": {}}}

    (outputs[1] / STATE_FILE).write_bytes((outputs[0] / STATE_FILE).read_bytes())
    refused = load_state(outputs[1])
    assert refused.singer_state is None
    assert "another backup" in refused.reason
