"""How tap-coda's messages reach stdout: singer-sdk's msgspec writer, RECORDs batched."""

from __future__ import annotations

import atexit
import contextlib
import sys
import typing as t

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

    def write_line(self, line: bytes | bytearray) -> None:
        """An encoded message (tap_coda.state's STATE): after what is held, then flushed.
        Written as it is, not copied into the batch (a STATE can be megabytes)."""
        self._send(line)

    def send(self) -> None:
        """Write what is held to stdout and flush."""
        self._send(b"")

    def _send(self, line: bytes | bytearray) -> None:
        out = sys.stdout.buffer  # resolved now: tests redirect it
        try:
            _write_all(out, self._held)
        finally:
            self._held.clear()
        _write_all(out, line)
        out.flush()

    def _send_quietly(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send()


def _write_all(out: t.BinaryIO, data: bytes | bytearray) -> None:
    """Write through a view, never a copy: a large message would otherwise be held twice
    more (a bytes copy, then a slice per partial write)."""
    with memoryview(data) as view:
        start = 0
        while start < len(view):  # an unbuffered stdout may take part of a write
            written = out.write(view[start:])
            if not written:
                raise BlockingIOError("stdout took no bytes")
            start += written
