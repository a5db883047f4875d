"""`page_content_parts`: a large page export arriving in ordered parts (docs/RECORDS.md).

Each part is appended to the page's staging file as it comes, its digest taken on the way,
so the target never holds more than a part. The `page_contents` record that follows says
how many parts were sent; a page whose parts are not all there, in order, is refused: a
failure of that page (latest's copy is carried), never of the run.
"""

from __future__ import annotations

import binascii
import typing as t
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path

from target_files import fsutil
from target_files.digest import Digest
from target_files.records import require

__all__ = ["PageParts", "PartsError", "parts_failure"]

PageKey = tuple[str, str, str]  # doc_id, page_id, format


class PartsError(ValueError):
    """The parts of a page cannot make its file (the message says why)."""


@dataclass
class StagedParts:
    path: Path
    digest: Digest = field(default_factory=Digest)
    next_seq: int = 0
    problem: str | None = None


class PageParts:
    """The parts of large exports being received, one staging file per page and format."""

    def __init__(self, perms: fsutil.Perms) -> None:
        self.perms = perms
        self.pending: dict[PageKey, StagedParts] = {}

    def add(self, record: dict[str, t.Any], new_path: t.Callable[[str], Path]) -> None:
        """Append one part; `new_path(format)` names the staging file of a page's first."""
        require(record, "page_content_parts", "doc_id", "page_id", "format", "seq")
        fmt = str(record["format"])
        key = (str(record["doc_id"]), str(record["page_id"]), fmt)
        staged = self.pending.get(key)
        if staged is None or record.get("seq") == 0:  # a page sent again starts over
            if staged is not None:
                staged.path.unlink(missing_ok=True)
            staged = self.pending[key] = StagedParts(new_path(fmt))
            fsutil.mkdir(staged.path.parent, self.perms)
        if staged.problem:
            return
        if record.get("seq") != staged.next_seq:
            staged.problem = f"part {record.get('seq')} came where {staged.next_seq} was due"
            return
        try:
            piece = _piece(record)
        except PartsError as exc:
            staged.problem = str(exc)
            return
        with staged.path.open("ab") as out:
            out.write(piece)
        staged.digest.update(piece)
        staged.next_seq += 1

    def take(self, key: PageKey, parts: t.Any) -> tuple[Path, Digest]:
        """The staging file and digest of a page's parts, once all `parts` have come;
        `PartsError` (and the file removed) when they have not."""
        staged = self.pending.pop(key, None)
        problem = staged.problem if staged else "none of its parts came"
        if staged is not None and not problem and staged.next_seq != parts:
            problem = f"{staged.next_seq} of its {parts} parts came"
        if problem or staged is None:
            if staged is not None:
                staged.path.unlink(missing_ok=True)
            raise PartsError(f"the export's parts are incomplete: {problem}")
        return staged.path, staged.digest


def _piece(record: t.Mapping[str, t.Any]) -> bytes:
    served = record.get("content_base64")
    if served is not None:
        try:
            return b64decode(str(served), validate=True)
        except (binascii.Error, ValueError):
            raise PartsError(f"part {record.get('seq')} is not base64") from None
    content = record.get("content")
    if not isinstance(content, str):
        raise PartsError(f"part {record.get('seq')} has no content")
    return content.encode(fsutil.ENCODING, fsutil.ERRORS)


def parts_failure(record: t.Mapping[str, t.Any], error: str) -> dict[str, t.Any]:
    """The failure record of a page refused for its parts (as the tap would send one)."""
    doc_id, page_id, fmt = (str(record.get(k)) for k in ("doc_id", "page_id", "format"))
    return {
        "id": f"parts:{doc_id}:{page_id}:{fmt}",
        "kind": "failure",
        "object_type": "page_content",
        "doc_id": doc_id,
        "object_id": page_id,
        "format": fmt,
        "error": error,
    }
