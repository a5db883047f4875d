"""The input reader: singer-sdk's, plus what the end of a run needs to know."""

from __future__ import annotations

import io
import json
import sys
import typing as t

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_files import jsonio


class TrackingReader(SingerReader):
    """singer-sdk's reader, plus what the end of input needs to know: every stream that
    announced a schema (repeats included, which the Target itself ignores) and which
    one came last. A malformed line is one clear error, not a logged traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._stdin: t.IO[str] | None = None
        self.schema_streams: set[str] = set()
        self.last_schema_stream: str | None = None
        self.last_type: object = None  # the `type` of the last message read
        self.lines = 0

    @property
    def default_input(self) -> t.IO[str]:  # type: ignore[override]
        """stdin as UTF-8 whatever the locale says: Singer messages are JSON, JSON is UTF-8."""
        if self._stdin is None:
            buffer = getattr(sys.stdin, "buffer", None)
            self._stdin = io.TextIOWrapper(buffer, encoding="utf-8") if buffer else sys.stdin
        return self._stdin

    def deserialize_json(self, line: str) -> dict[str, t.Any]:
        self.lines += 1
        try:
            message = jsonio.loads(line)
        except (json.JSONDecodeError, jsonio.DecodeError):
            snippet = line.strip()[:80]
            raise InvalidInputLine(
                f"input line {self.lines} is not valid JSON (truncated input?): {snippet!r}"
            ) from None
        kind = message.get("type") if isinstance(message, dict) else None
        self.last_type = kind
        if kind == "SCHEMA":
            self.last_schema_stream = str(message.get("stream"))
            self.schema_streams.add(self.last_schema_stream)
        return t.cast("dict[str, t.Any]", message)
