"""A page export too large to hold in memory: its bytes in a work file, read a part at a time.

An export over `PART_BYTES` stays on disk from the download on (tap_coda.download); the
tap scans it for asset links a window at a time and sends it as `page_content_parts`
records of at most `PART_BYTES` each (docs/RECORDS.md), then removes the file. Neither the
tap nor the target ever holds more than a part of it.
"""

from __future__ import annotations

import codecs
import typing as t
from dataclasses import dataclass
from pathlib import Path

#: Exports up to this size travel whole in their `page_contents` record, as they always did;
#: larger ones in parts of at most this size.
PART_BYTES = 1 << 20
#: Characters of one window kept at the start of the next when scanning for links: a link
#: split by a window's end is found whole in the next (links are far shorter).
SCAN_OVERLAP = 8192


def is_utf8(path: Path, chunk: int = PART_BYTES) -> bool:
    """Whether the file's bytes are UTF-8, checked a chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while block := f.read(chunk):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class SpooledExport:
    """An export's bytes in `path` (`size` bytes; `utf8`: whether they decode)."""

    path: Path
    size: int
    utf8: bool

    def pieces(self, size: int = PART_BYTES) -> t.Iterator[str | bytes]:
        """The export in order, at most `size` bytes a piece: text cut between characters
        when it is UTF-8, else the bytes as served."""
        decoder = codecs.getincrementaldecoder("utf-8")() if self.utf8 else None
        with self.path.open("rb") as f:
            # The decoder holds back a character cut by a block's end (at most 3 bytes):
            # the next block is that much shorter, so no piece is over `size` bytes.
            while block := f.read(size - (len(decoder.getstate()[0]) if decoder else 0)):
                if decoder is None:
                    yield block
                elif text := decoder.decode(block):
                    yield text
        if decoder is not None and (rest := decoder.decode(b"", final=True)):
            yield rest

    def windows(self) -> t.Iterator[str]:
        """The text in overlapping windows, for finding links (nothing when not UTF-8)."""
        if not self.utf8:
            return
        tail = ""
        for piece in self.pieces():
            assert isinstance(piece, str)
            window = tail + piece
            yield window
            tail = window[-SCAN_OVERLAP:]

    def whole(self) -> str | bytes:
        """The whole export in memory (text when UTF-8), its work file removed."""
        try:
            data = self.path.read_bytes()
        finally:
            self.discard()
        return data.decode("utf-8") if self.utf8 else data

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


#: What an export gives: its text, its bytes when they are not UTF-8, or the file of a
#: large one.
Export = str | bytes | SpooledExport
