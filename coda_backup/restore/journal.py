"""Writes sent but not yet confirmed, kept on disk while a restore runs.

Coda applies a write seconds to minutes after its 202, so a restore stopped in between
(Ctrl-C, a crash, a kill) leaves writes that a new plan cannot see yet. Each write's
request id is recorded right after its 202 and removed once mutationStatus confirms it;
the next restore into the same doc first waits for what is left, then plans. The file
holds request ids and what they were, never the token.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, str] = {}  # request id -> what it writes
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {str(k): str(v) for k, v in (data.get("pending") or {}).items()}
            except (OSError, ValueError, AttributeError):
                self.entries = {}

    @classmethod
    def for_doc(cls, backups: Path, doc_id: str) -> Journal:
        return cls(backups / ".restore" / f"{doc_id}.pending.json")

    def add(self, request_id: str, what: str) -> None:
        self.entries[request_id] = what
        self._save()

    def done(self, request_id: str) -> None:
        if self.entries.pop(request_id, None) is not None:
            self._save()

    def pending(self) -> list[tuple[str, str]]:
        return list(self.entries.items())

    def _save(self) -> None:
        if not self.entries:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        body: dict[str, t.Any] = {"pending": self.entries}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.path)
