"""tap_coda.state: the run's final STATE goes out even when it says nothing new, since it is
the message that tells target-files the tap finished."""

from __future__ import annotations

from tap_coda.state import DocStateWriter


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
