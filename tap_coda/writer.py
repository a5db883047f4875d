"""How tap-coda's messages reach stdout: singer-sdk's msgspec writer, RECORDs batched."""

from __future__ import annotations

import atexit
import contextlib
import sys

from singer_sdk import singerlib as singer
from singer_sdk.contrib.msgspec import MsgSpecWriter


class RowBatchingWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer, sending RECORDs in 64 KiB writes.

    A write per RECORD is a write(2) per row in the tap and a wake-up and a read(2) per
    row in the target; stdout's own buffer does not help where PYTHONUNBUFFERED is set,
    as in many containers. RECORDs collect here; any other message (SCHEMA, STATE, …)
    sends what is held, then itself, and flushes, so a STATE never overtakes a record.
    """

    LIMIT = 1 << 16

    def __init__(self) -> None:
        super().__init__()
        self._held = bytearray()
        atexit.register(self._send_quietly)  # records held when a run dies still go out

    def write_message(self, message: singer.Message) -> None:
        self._held += self.format_message(message)
        if type(message) is not singer.RecordMessage or len(self._held) >= self.LIMIT:
            self.send()

    def write_line(self, line: bytes) -> None:
        """An encoded message (tap_coda.state's STATE): after what is held, then flushed."""
        self._held += line
        self.send()

    def send(self) -> None:
        """Write what is held to stdout (resolved now: tests redirect it) and flush."""
        out = sys.stdout.buffer
        # Written through a view, never copied: a large record would otherwise be held
        # twice more (a bytes copy, then a slice per partial write).
        try:
            with memoryview(self._held) as data:
                start = 0
                while start < len(data):  # an unbuffered stdout may take part of a write
                    written = out.write(data[start:])
                    if not written:
                        raise BlockingIOError("stdout took no bytes")
                    start += written
        finally:
            self._held.clear()
        out.flush()

    def _send_quietly(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send()
