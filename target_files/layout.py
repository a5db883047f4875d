"""File and folder names of the backup tree: the one place that turns names into paths.

Every name that reaches the disk goes through `safe()`. It keeps names readable and valid
on Windows, macOS and Linux, and makes it impossible for a Coda name (or a stream name of
another tap) to place a file outside the run folder: separators become `_`, and `.`/`..`
can never be a whole name. Objects are named `{safe(name)}__{id}`; `FolderNames` then
makes sure that two entries of one folder never share a file on a case-insensitive file
system, deterministically.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Most file systems limit one path component to 255 bytes.
MAX_NAME_BYTES = 255
#: Room kept free in every name for the `__N` added when names collide in a folder.
COLLISION_RESERVE = 8
#: The longest extension the tree uses (`Page__Table__id.columns.json`).
LONGEST_EXT = ".columns.json"
#: Ids come from the API and are short; a cap keeps a hostile id from eating the name.
MAX_ID_BYTES = 100
SEP = "__"

_FORBIDDEN = frozenset('<>:"/\\|?*')
# Invisible marks that only serve to disguise a name (bidi overrides, zero-width spaces).
# ZWJ (U+200D) and ZWNJ (U+200C) are kept: emoji sequences and several scripts need them.
_INVISIBLE = frozenset(
    [
        0x061C,
        0x180E,
        0x200B,
        0x200E,
        0x200F,
        0xFEFF,
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2065),
        *range(0x2066, 0x206A),
    ]
)
_REPLACED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, lone surrogates
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{n}" for p in ("COM", "LPT") for n in "0123456789¹²³"]
)
_ZWJ = "\u200d"


def _clean_char(ch: str) -> str:
    if ch in _FORBIDDEN or unicodedata.category(ch) in _REPLACED_CATEGORIES:
        return "_"
    if ord(ch) in _INVISIBLE:
        return ""
    return ch


def _is_extender(ch: str) -> bool:
    """True for characters that belong to the character before them (one grapheme)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == _ZWJ
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tone modifiers
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` within `max_bytes` UTF-8 bytes that ends between
    graphemes (best effort: combining marks, ZWJ sequences and flag pairs stay whole)."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    used = 0
    k = 0
    for ch in text:
        size = len(ch.encode("utf-8"))
        if used + size > max_bytes:
            break
        used += size
        k += 1
    while 0 < k < len(text) and (_is_extender(text[k]) or text[k - 1] == _ZWJ):
        k -= 1
    if 0 < k < len(text) and _is_regional_indicator(text[k]):
        run = 0
        while run < k and _is_regional_indicator(text[k - 1 - run]):
            run += 1
        if run % 2:
            k -= 1
    return text[:k]


def _trim(text: str) -> str:
    # Windows drops trailing dots and spaces; leading/trailing blanks only confuse people.
    return text.strip().rstrip(". \t").strip()


def _is_reserved(text: str) -> bool:
    return text.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def safe(text: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """One path component made from any text: readable, portable, never empty.

    `<>:"/\\|?*`, control characters, lone surrogates and line separators become `_`;
    zero-width and bidi control marks are removed; the result is NFC, has no leading dot,
    no trailing dot or space, is not a reserved Windows device name (any case, any
    extension) and fits in `max_bytes` UTF-8 bytes, cut between characters.
    """
    if max_bytes < 2:
        raise ValueError("max_bytes must leave room for at least two bytes")
    name = unicodedata.normalize("NFC", str(text))
    name = unicodedata.normalize("NFC", "".join(_clean_char(c) for c in name))
    name = _trim(name)
    if name.startswith("."):
        name = "_" + name
    # Cutting can expose a trailing dot, a device name ("CONSOLE" → "CON") or break NFC:
    # settle it (a "_" prefix survives any later cut, which only removes from the end).
    for _ in range(8):
        name = _trim(_cut(name, max_bytes)) or "_"
        if _is_reserved(name):
            name = "_" + name
        elif not unicodedata.is_normalized("NFC", name):
            name = unicodedata.normalize("NFC", name)
        else:
            break
    return name


def safe_id(obj_id: object) -> str:
    """An API id as it can appear in a name (ids are normally already safe and kept)."""
    return safe(str(obj_id), MAX_ID_BYTES)


def stem(names: Sequence[str | None], obj_id: object | None, ext: str = LONGEST_EXT) -> str:
    """`{safe(name)}__…__{id}`, cut so the stem plus `ext` and a collision suffix stays
    under `MAX_NAME_BYTES`. Several names (page and table) share the budget fairly."""
    parts = [n if n is not None else "" for n in names] or [""]
    tail = f"{SEP}{safe_id(obj_id)}" if obj_id is not None else ""
    budget = (
        MAX_NAME_BYTES
        - COLLISION_RESERVE
        - len(ext.encode("utf-8"))
        - len(tail.encode("utf-8"))
        - len(SEP) * (len(parts) - 1)
    )
    full = [safe(p, 1 << 20) for p in parts]
    sizes = [len(p.encode("utf-8")) for p in full]
    allowance = [0] * len(parts)
    remaining = budget
    for count, i in enumerate(sorted(range(len(parts)), key=lambda j: sizes[j])):
        share = remaining // (len(parts) - count)
        allowance[i] = max(2, min(sizes[i], share))
        remaining -= allowance[i]
    return SEP.join(safe(p, a) for p, a in zip(full, allowance, strict=True)) + tail


def fold(name: str) -> str:
    """How a case-insensitive file system may compare two names."""
    return unicodedata.normalize("NFC", name).casefold()


class FolderNames:
    """The names taken in one folder. `claim` returns a stem whose every derived entry
    (the stem itself, used as a child folder, and stem+ext for each extension) is free
    under case folding, adding `__2`, `__3`… when needed. Claim in a sorted order to make
    the outcome independent of the order records arrived in."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = {fold(n) for n in taken}

    def claim(self, base: str, exts: Iterable[str] = ()) -> str:
        exts = list(exts)
        n = 1
        candidate = base
        while any(fold(candidate + e) in self._taken for e in ["", *exts]):
            n += 1
            candidate = f"{base}{SEP}{n}"
        self._taken.update(fold(candidate + e) for e in ["", *exts])
        return candidate


def child(root: Path, *parts: str) -> Path:
    """`root/part/…`, refusing any part that is not one plain name (defence in depth:
    every part should already come from `safe()`)."""
    path = root
    for part in parts:
        if (
            not part
            or part in (".", "..")
            or "/" in part
            or "\\" in part
            or "\x00" in part
            or len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
        ):
            raise ValueError(f"unsafe path component {part!r}")
        path = path / part
    return path


def page_ext(fmt: str) -> str:
    """File extension of an exported page format."""
    return {"markdown": ".md", "html": ".html"}.get(fmt, "." + safe(fmt, 16))


def table_folder(table_type: object) -> str:
    """`table` or `view` (Coda's `tableType`), anything else made safe."""
    kind = str(table_type or "table")
    return kind.lower() if kind.lower() in ("table", "view") else safe(kind, 64)


TABLE_EXTS = (".csv", ".columns.json", ".table.json", ".rows.jsonl")


# -- the naming plan: which stem each object of a run gets ---------------------------
# Claims are made in a sorted order, so names never depend on the order records arrived.


def claim_sorted(
    plan: Iterable[tuple[str, str]], exts: Iterable[str] = (), names: FolderNames | None = None
) -> dict[str, str]:
    """`(base, id)` pairs of one folder → id: its stem, claimed in (folded base, id) order."""
    names = names if names is not None else FolderNames()
    exts = list(exts)
    return {
        obj_id: names.claim(base, exts)
        for base, obj_id in sorted(plan, key=lambda p: (fold(p[0]), p[1]))
    }


#: Page files of one stem; the stem alone is the folder of the page's children.
PAGE_EXTS = (".md", ".html")


#: Bytes the folders of a page may take below `pages/` (stems joined by `/`). With the
#: output path, the run, `docs/<doc>/pages/` and a 255-byte file name this keeps every path
#: under Linux's 4,096 bytes for output paths up to about 1,400 bytes.
PAGE_FOLDERS_BUDGET = 2048


def children_folder(folder: tuple[str, ...], parent_stem: str) -> tuple[str, ...]:
    """Where a page's children go: the folder named by its stem, beside its file; past
    `PAGE_FOLDERS_BUDGET` that folder starts again at the top of `pages/` (still named by
    the parent's stem), so however deep the tree, no path grows past the limit."""
    nested = (*folder, parent_stem)
    if len("/".join(nested).encode("utf-8")) <= PAGE_FOLDERS_BUDGET:
        return nested
    return (parent_stem,)


def page_places(
    pages: Sequence[tuple[str, str | None, str | None]],
) -> dict[str, tuple[tuple[str, ...], str]]:
    """`(page_id, name, parent_id)` → page_id: (its folder: the ancestors' stems, its stem).

    Children sit under their parent's stem (`children_folder`: past a depth budget that
    folder starts again at the top); a page whose parent is not among `pages` is at
    the top, and so is one page of each parent cycle (the smallest id), which would be
    unreachable from the top otherwise."""
    known = {p[0] for p in pages}
    children: dict[str | None, list[tuple[str, str | None]]] = {}
    for page_id, name, parent_id in pages:
        parent = parent_id if parent_id in known else None
        children.setdefault(parent, []).append((page_id, name))
    places: dict[str, tuple[tuple[str, ...], str]] = {}
    folders: dict[tuple[str, ...], FolderNames] = {}
    queue: list[tuple[str | None, tuple[str, ...]]] = [(None, ())]
    while True:
        while queue:
            parent, folder = queue.pop()
            kids = [k for k in children.get(parent, []) if k[0] not in places]
            plan = [(stem([name], page_id, ".html"), page_id) for page_id, name in kids]
            names = folders.setdefault(folder, FolderNames())
            for page_id, kid_stem in claim_sorted(plan, PAGE_EXTS, names).items():
                places[page_id] = (folder, kid_stem)
                queue.append((page_id, children_folder(folder, kid_stem)))
        rest = [p for p in pages if p[0] not in places]
        if not rest:
            return places
        first = min(rest, key=lambda p: p[0])
        children.setdefault(None, []).append((first[0], first[1]))
        queue.append((None, ()))


def table_places(
    tables: Sequence[tuple[str, object, str | None, str | None]],
) -> dict[str, tuple[str, str]]:
    """`(table_id, tableType, page name, table name)` → table_id: (its folder, its stem);
    a table is named after its page and itself."""
    plans: dict[str, list[tuple[str, str]]] = {}
    for table_id, table_type, page_name, name in tables:
        names = [page_name, name] if page_name is not None else [name]
        plans.setdefault(table_folder(table_type), []).append((stem(names, table_id), table_id))
    return {
        table_id: (folder, table_stem)
        for folder, plan in plans.items()
        for table_id, table_stem in claim_sorted(plan, TABLE_EXTS).items()
    }


def other_paths(streams: Iterable[str]) -> dict[str, str]:
    """Streams of other taps → `other/<name>.jsonl`."""
    plan = [(stem([s], None, ".jsonl"), s) for s in streams]
    return {s: f"other/{name}.jsonl" for s, name in claim_sorted(plan, [".jsonl"]).items()}
