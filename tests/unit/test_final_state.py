"""tap_coda.state: the run's final STATE goes out even when it says nothing new, since it is
the message that tells target-files the tap finished."""

from __future__ import annotations

import sys
import tracemalloc

import pytest

from tap_coda.state import DocStateWriter
from tap_coda.writer import RowBatchingWriter


class Lines:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def write_line(self, line: bytes | bytearray) -> None:
        if line:
            self.lines.append(bytes(line))


def test_a_repeated_state_is_dropped_but_the_final_one_is_sent() -> None:
    out = Lines()
    writer = DocStateWriter(out, interval_s=3600)
    state = {"bookmarks": {"docs": {}}}
    for _ in range(2):
        writer.write_state(state)
        writer.flush()
    assert len(out.lines) == 1
    writer.write_state(state)
    writer.flush(final=True)
    assert out.lines == [out.lines[0]] * 2


class Stdout:
    """A stdout whose buffer takes every write whole and keeps nothing (counts bytes)."""

    def __init__(self) -> None:
        self.buffer = self
        self.written = 0

    def write(self, data: memoryview) -> int:
        self.written += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def test_a_large_state_is_held_about_once_while_it_is_sent_and_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 10,000 pages a STATE is megabytes: the tap held it four times at its peak (the
    last line kept to compare, the encoded line, line plus newline, the writer's batch)."""
    out = Stdout()
    monkeypatch.setattr(sys, "stdout", out)
    pages = {f"canvas-{n:06d}": {"markdown": "2026-12-01T10:00:00.000Z"} for n in range(40_000)}
    state = {"bookmarks": {"docs": {"partitions": [{"context": {}, "pages": pages}]}}}
    writer = DocStateWriter(RowBatchingWriter(), interval_s=3600)
    writer.write_state({"bookmarks": {}})  # the first STATE goes out at once
    writer.write_state(state)  # the next waits for the interval or a flush
    sent_before = out.written
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        writer.flush()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = out.written - sent_before
    assert size > 2_000_000
    assert peak - before < 1.6 * size, (peak - before) / size
    assert after - before < 0.05 * size, (after - before) / size
    writer.write_state(state)
    writer.flush()  # unchanged: dropped, by its digest
    assert writer.sent == 2
