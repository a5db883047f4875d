"""When the tap sends STATE, and how cheaply (issue #17).

singer-sdk hands the whole state to its `StateWriter` after every child context: every
page, every table. Each STATE holds every bookmark of the account (a partition per page
and table), and the SDK's writer turns it into a message with `dataclasses.asdict`, keeps
a `copy.deepcopy` of it and compares the next one with that copy, all in Python: the cost
of a run grew with the square of its objects (about 1,000 STATEs of 3 MB at 10,000 pages).

`DocStateWriter` keeps the layout and the order (a STATE still follows the records it
covers: it goes through the same writer, after them) and changes only when one leaves:
once per doc (the streams call `flush` when a doc's children are done), at the end of the
run, and at most every `interval_s` seconds in between, so that a long doc's progress is
not lost to an interruption. What it sends is always the live state at a point where
singer-sdk would have sent it, so a resumed run starts from a state as correct as
before, only less often refreshed. Each STATE is encoded once by msgspec (C), straight
into the buffer that is written, and compared with the last by digest: at 10,000 pages a
STATE is megabytes, and each copy of it held at once (the last line kept to compare, the
line plus its newline, the writer's batch) added as much to the tap's peak memory.
"""

from __future__ import annotations

import hashlib
import time
import typing as t

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.helpers._state import StateWriter

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.helpers import types

#: Longest time between two STATEs while a doc is being read. A STATE costs O(bookmarks)
#: in the tap, in coda-backup's relay and in the target, so this bounds their share of a
#: long run; an interrupted run redoes at most this much work (plus the current object).
STATE_INTERVAL_SECONDS = 60.0


class RawWriter(t.Protocol):
    """The tap's message writer: takes an encoded line and sends it after what it holds."""

    def write_line(self, line: bytes | bytearray) -> None: ...


class DocStateWriter(StateWriter):
    """A `StateWriter` that sends the state at doc boundaries and every `interval_s`."""

    def __init__(
        self,
        writer: RawWriter,
        interval_s: float = STATE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # The SDK's own fields are unused: `write_state` below replaces all it does.
        self._raw = writer
        self._interval_s = interval_s
        self._clock = clock
        self._pending: types.TapState | None = None
        self._last_digest = b""
        self._last_sent = -float("inf")
        self.sent = 0  # STATE messages written (tests and logs)

    def write_state(self, state: types.TapState) -> None:
        """singer-sdk calls this after each child context: note it, send only when due."""
        self._pending = state  # the live state: its later changes are what gets sent
        if self._clock() - self._last_sent >= self._interval_s:
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        """Send the records held and the state noted last, unless the last STATE said it.
        `final`: the run's last STATE, sent even when it says nothing new: it is the
        message that tells target-files the tap finished (docs/RECORDS.md)."""
        state, self._pending = self._pending, None
        line, digest = bytearray(), b""
        if state is not None:
            encoder.encode_into({"type": "STATE", "value": state}, line)
            line += b"\n"
            digest = hashlib.blake2b(line, digest_size=16).digest()
            self._last_sent = self._clock()
            if digest == self._last_digest and not final:
                line.clear()
        self._raw.write_line(line)  # an empty line sends only what the writer holds
        if line:
            self._last_digest = digest
            self.sent += 1
