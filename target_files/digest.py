"""sha256 and size of a file, taken from the bytes as they are written (never a second
read of what was just written), for the manifest's `files` object."""

from __future__ import annotations

import hashlib
import io
import os
import typing as t


class Digest:
    """A running sha256 and byte count; `update` as the bytes go out."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._sha.update(data)
        self.size += len(data)

    @property
    def hexdigest(self) -> str:
        return self._sha.hexdigest()

    @classmethod
    def of_bytes(cls, data: bytes) -> Digest:
        d = cls()
        d.update(data)
        return d

    @classmethod
    def of_file(cls, path: os.PathLike[str] | str, chunk: int = 1 << 20) -> Digest:
        """A file already on disk (an earlier run's, which no digest came with)."""
        d = cls()
        with open(path, "rb") as f:  # noqa: PTH123
            while block := f.read(chunk):
                d.update(block)
        return d


class HashingFileIO(io.RawIOBase):
    """A raw writer on a file descriptor that feeds every byte written to a Digest."""

    def __init__(self, fd: int, digest: Digest) -> None:
        super().__init__()
        self._fd = fd
        self._digest = digest

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: t.Any) -> int:
        view = memoryview(data).cast("B")
        written = os.write(self._fd, view)
        self._digest.update(view[:written])
        return written

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                super().close()
