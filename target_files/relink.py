"""Asset links in a page file rewritten a block at a time, so a page of any size is never
held whole in memory (a page export can be tens of MB).

Each block is cut after its last whitespace and the rest carried into the next: an asset
URL holds no whitespace, so no link is ever split between two blocks.
"""

from __future__ import annotations

import os
import re
import typing as t

from target_files import fsutil
from target_files.digest import Digest

if t.TYPE_CHECKING:
    from pathlib import Path

#: Characters read per block.
BLOCK = 1 << 20
_LAST_SPACE = re.compile(r"\s(?=\S*\Z)")
#: Page files are read and written back byte for byte, UTF-8 or not.
_ERRORS = "surrogateescape"


def blocks(text_blocks: t.Iterable[str]) -> t.Iterator[str]:
    """`text_blocks` again, each cut after its last whitespace (the rest goes with the
    next), so that no run of non-space characters is split between two."""
    carry = ""
    for block in text_blocks:
        text = carry + block
        cut = _LAST_SPACE.search(text)
        end = cut.end() if cut else 0
        carry = text[end:]
        if end:
            yield text[:end]
    if carry:
        yield carry


def _read(path: Path) -> t.Iterator[str]:
    with path.open(encoding=fsutil.ENCODING, errors=_ERRORS, newline="") as src:
        while block := src.read(BLOCK):
            yield block


def rewrite(path: Path, change: t.Callable[[str], str], perms: fsutil.Perms) -> Digest | None:
    """Apply `change` to the file's text block by block; when anything changed, a new
    file replaces it (a hard link elsewhere is never written) and its digest is returned;
    None when nothing changed."""
    tmp = path.with_name(f".{path.name}.assets.tmp")
    digest, changed = Digest(), False
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, perms.file_mode)
    try:
        with open(fd, "wb") as out:  # noqa: PTH123
            for text in blocks(_read(path)):
                new = change(text)
                changed = changed or new != text
                data = new.encode(fsutil.ENCODING, _ERRORS)
                out.write(data)
                digest.update(data)
            out.flush()
            if perms.fsync_each and changed:
                os.fsync(out.fileno())
        if changed:
            tmp.replace(path)
            return digest
        return None
    finally:
        tmp.unlink(missing_ok=True)
