"""Where a backup run keeps each object, found by id, and the cell rules to check it by.

Shared by the tree, fault, hostile-name, signal and Meltano suites (through `truth.py`).
Paths are found by the structural facts DESIGN.md prescribes (a subpage lives in the
folder named by its parent's stem; every name ends with `__{id}`), with
`target_files.layout.safe` as the one naming function borrowed from the product.
"""

from __future__ import annotations

import itertools
import json
import re
import typing as t
import unicodedata
from decimal import Decimal
from pathlib import Path

from target_files import layout

if t.TYPE_CHECKING:
    from fakecoda import Doc, Page, Row, Table, Workspace

FORMATS = {"markdown": ".md", "html": ".html"}
ROW_FIELDS = ["_row_id", "_row_name", "_row_index", "_created_at", "_updated_at", "_browser_link"]
ROW_KEYS = ["id", "name", "index", "createdAt", "updatedAt", "browserLink"]


class RunTree(t.Protocol):
    """A run folder and the workspace it was taken from (`Backup`, `truth.Tree`)."""

    @property
    def run(self) -> Path: ...

    @property
    def ws(self) -> Workspace: ...


# -- ground truth ------------------------------------------------------------------------


def listed_docs(ws: Workspace) -> list[Doc]:
    """What GET /docs lists with include_shared: every opened doc, owned or not."""
    return [d for d in ws.docs if d.listed]


def readable_docs(ws: Workspace) -> list[Doc]:
    return [d for d in listed_docs(ws) if not d.over_api_size_limit]


#: What Coda refuses to read of a doc shared with the caller (a skip each, issue #14).
ACL_SKIPS = ("permissions", "sharing settings")


def acl_skips(docs: t.Iterable[Doc]) -> set[tuple[str, str]]:
    """(object_type, doc id) of the ACL reads Coda answers 403: docs the caller may not share."""
    shared = [d for d in docs if not d.is_owner and not d.over_api_size_limit]
    return {(what, d.id) for d in shared for what in ACL_SKIPS}


def doc_logic_files(doc: Doc) -> set[str]:
    """The files of a doc's logic and sharing a run holds (none for an over-size doc)."""
    if doc.over_api_size_limit:
        return set()
    names = {"formulas.json", "controls.json", "sharing.json"}
    return names | {"permissions.json"} if doc.is_owner else names


def exportable(page: Page) -> bool:
    return page.content_type == "canvas" and not page.export_fails


JSON_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")


def has_float(value: t.Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(has_float(v) for v in value)
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    return False


def assert_cell(got: str, value: t.Any) -> None:
    """DESIGN.md: strings and numbers as they are, booleans true/false, arrays and objects
    as compact JSON, null as empty. "A number as it is" is the same JSON number, digit for
    digit; its notation may differ (`1e+21` in the API, `1E+21` on the Singer wire)."""
    if value is None:
        assert got == ""
    elif isinstance(value, bool):
        assert got == ("true" if value else "false")
    elif isinstance(value, str):
        assert got == value
    elif isinstance(value, (int, float)):
        assert JSON_NUMBER.fullmatch(got), got
        assert Decimal(got) == Decimal(json.dumps(value)), (got, value)
    else:
        assert json.loads(got) == value, got
        if not has_float(value):
            assert got == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def assert_csv_row(
    got_row: list[str], ws: Workspace, doc: Doc, table: Table, row: Row, *, base: str, where: str
) -> None:
    """One CSV line against the fake's row: the six `_row_*` cells, then one per column."""
    api = ws.api_row(doc, table, row, "simpleWithArrays", base=base)
    want = [api[k] for k in ROW_KEYS] + [api["values"][c.id] for c in table.columns]
    assert len(got_row) == len(want), (where, row.id)
    for i, (got, value) in enumerate(zip(got_row, want, strict=True)):
        try:
            assert_cell(got, value)
        except AssertionError as exc:
            raise AssertionError(f"{where} row {row.id} cell {i}: {exc}") from None


# -- finding things in the tree by id -----------------------------------------------------


def named(folder: Path, obj_id: str, suffix: str = "") -> list[Path]:
    """Entries of `folder` named `{readable}__{id}{suffix}` (or `…__{id}__N{suffix}` when a
    case-insensitive clash in the folder needed a number)."""
    if not folder.is_dir():
        return []
    # An id is made safe in a name like any text (`a/b` is `a_b`).
    pattern = re.compile(rf".+__{re.escape(layout.safe_id(obj_id))}(__\d+)?{re.escape(suffix)}")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def readable_part(stem: str, obj_id: str) -> str:
    return stem[: stem.rindex(f"__{layout.safe_id(obj_id)}")]


def assert_readable(part: str, *names: str) -> None:
    """The readable part of a name is the safe form of `names` (joined by `__`), cut to
    fit when long: each name's share a non-empty prefix of its safe form."""
    safe_names = [layout.safe(n) for n in names]
    full = "__".join(safe_names)
    assert part, f"empty readable part for {names!r}"
    if len(full.encode("utf-8")) < 150:
        assert part == full
    else:
        # Safe names may hold `__` themselves (`<>` becomes `__`): try every way to cut
        # `part` at len(names) - 1 of its separators.
        cuts = [i for i in range(len(part)) if part.startswith("__", i)]
        assert any(
            all(
                whole.startswith(piece)
                for piece, whole in zip(_pieces(part, chosen), safe_names, strict=True)
            )
            for chosen in itertools.combinations(cuts, len(names) - 1)
        ), (part, safe_names)


def _pieces(text: str, cuts: tuple[int, ...]) -> list[str]:
    bounds = [0, *[c for cut in cuts for c in (cut, cut + 2)], len(text)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]


def doc_dir(backup: RunTree, doc: Doc) -> Path:
    found = named(backup.run / "docs", doc.id)
    assert len(found) == 1, (doc.id, found)
    assert_readable(readable_part(found[0].name, doc.id), doc.name)
    return found[0]


def page_stem_path(backup: RunTree, doc: Doc, page: Page) -> Path:
    """Where page P's files live without their extension: `pages/` for a top-level page,
    else inside the folder named by P's parent's stem."""
    ws = backup.ws
    pages = doc_dir(backup, doc) / "pages"
    if page.parent_id is None:
        folder = pages
    else:
        parent = page_stem_path(backup, doc, ws.page(doc.id, page.parent_id))
        # Past the depth budget a page's children start again at the top (layout.py).
        relative = parent.relative_to(pages).as_posix().encode("utf-8")
        deep = len(relative) > layout.PAGE_FOLDERS_BUDGET
        folder = pages / parent.name if deep else parent
    entries = (
        named(folder, page.id) + named(folder, page.id, ".md") + named(folder, page.id, ".html")
    )
    stems = {p.name.removesuffix(".md").removesuffix(".html") for p in entries}
    if not stems:  # no file and no subpages: the stem is not on disk
        return folder / f"?__{layout.safe_id(page.id)}"
    assert len(stems) == 1, (page.id, stems)
    stem = stems.pop()
    assert_readable(readable_part(stem, page.id), page.name)
    return folder / stem


def table_file(backup: RunTree, doc: Doc, table: Table, suffix: str) -> Path:
    folder = doc_dir(backup, doc) / "tables" / table.table_type
    found = named(folder, table.id, suffix)
    assert len(found) == 1, (table.id, suffix, found)
    page = backup.ws.page(doc.id, table.parent_page_id)
    stem = found[0].name.removesuffix(suffix)
    assert_readable(readable_part(stem, table.id), page.name, table.name)
    return found[0]


WINDOWS_RESERVED = re.compile(r"CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]", re.IGNORECASE)


def assert_portable(name: str) -> None:
    """DESIGN.md's rules for a name valid on Windows, macOS and Linux."""
    assert not set(name) & set('<>:"/\\|?*'), name
    assert not any(unicodedata.category(ch) == "Cc" for ch in name), name
    assert not name.startswith(".") and not name.endswith((".", " ")), name
    assert not WINDOWS_RESERVED.fullmatch(name.split(".", maxsplit=1)[0].rstrip(" ")), name
    assert unicodedata.is_normalized("NFC", name), name
    assert len(name.encode("utf-8")) < 256, name


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def check_header(header: list[str], columns: list[dict[str, t.Any]]) -> None:
    """The facts any correct de-dup satisfies (DESIGN.md: `Name`, `Name__2`, `Name__3`)."""
    assert header[:6] == ROW_FIELDS
    labels = header[6:]
    assert len(labels) == len(columns)
    assert len(set(header)) == len(header), "duplicate CSV headers"
    names = [c["name"] or c["id"] for c in columns]  # an unnamed column is named by its id
    taken: set[str] = set(ROW_FIELDS)
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    for label, name in zip(labels, names, strict=True):
        if counts[name] == 1 and name not in ROW_FIELDS:
            assert label == name  # a unique name is kept exactly
        elif name not in taken:
            assert label == name  # the first of duplicates keeps the name
        else:
            assert re.fullmatch(rf"{re.escape(name)}__([2-9]|\d\d+)", label), (name, label)
        taken.add(name)
