"""Hostile names end to end, property-based: generated doc, page, table and column names
go through the fake Coda API, `tap-coda | target-files` and onto disk.

Names mix path traversal (`..`, `/`, `\\`), Windows device names, NUL and control
characters, zero-width and bidi marks, 1,000-character names, and siblings that differ only
by case or Unicode normalization. Whatever they are, the backup must be the ground truth
object by object (`truth.check_run`), stay inside its run folder, give no two entries of a
folder the same path on a case- or normalization-insensitive disk, and use only names
Windows accepts (`truth.windows_problem`, written here, independent of the product's
`layout.safe`).
"""

from __future__ import annotations

import typing as t
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fakecoda import build_named_workspace
from tests.e2e.tree import doc_logic_files
from tests.e2e.truth import Tree, check_portable_tree, check_run
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_pipe, viewer_files

TOKEN = "tok-NAMES-sEcReT-0c7d93e4"

PIECES = [
    "..",
    ".",
    "/",
    "\\",
    "../../etc/passwd",
    "..\\..\\windows",
    "CON",
    "nul",
    "Com1",
    "LPT9.txt",
    "COM¹",
    "aux.md",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\t",
    "\n",
    "\r",
    "\u2028",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u2066",
    "\ufeff",
    "é",
    "e\u0301",
    "ß",
    "SS",
    "İ",
    "ﬁ",
    "Ω",
    "\u2126",
    "😀",
    "👩\u200d👩\u200d👧",
    "🇫🇷",
    " ",
    '<>:"|?*',
    "a" * 120,
    "日本語" * 60,
]
LONG = ["x" * 1000, "é" * 1000, "e\u0301" * 500, "🚀" * 1000]
TWINS: list[t.Callable[[str], str]] = [
    str.upper,
    str.lower,
    str.swapcase,
    lambda s: unicodedata.normalize("NFD", s),
    lambda s: unicodedata.normalize("NFC", s),
    lambda s: unicodedata.normalize("NFKC", s),
]

pieced = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=6).map("".join)
#: Mostly names pieced together, one in eight a 1,000-character one.
hostile_name = st.integers(0, 7).flatmap(lambda n: st.sampled_from(LONG) if n == 0 else pieced)


@st.composite
def name_sets(draw: st.DrawFn, min_size: int, max_size: int) -> list[str]:
    """Some hostile names, then twins of some of them (same name but for case or
    normalization: siblings that collide on Windows and macOS)."""
    base = draw(st.lists(hostile_name, min_size=min_size, max_size=max_size))
    twins = [draw(st.sampled_from(TWINS))(name) for name in base]
    return base + twins[: draw(st.integers(0, len(twins)))]


EVERYTHING_AT_ONCE = {
    "doc_names": ["../../etc", "..", "CON", "Ready/Set\\Go"],
    "page_names": [
        "..",
        'a/b\\c:d*?"<>|',
        "NUL\x00byte\x07bell\x1b",
        "\u202eevil\u200b\u200fRTL",
        "x" * 1000,
        "Notes",
        "NOTES",
        unicodedata.normalize("NFC", "Café"),
        unicodedata.normalize("NFD", "Café"),
        "lpt1.txt",
        " trailing dot. ",
    ],
    "table_names": ["../passwd", "Data", "DATA", "é" * 1000],
    "column_names": ["Name", "name", "", "\x00", "a,b", "_row_id"],
}


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,  # the same names on every machine, every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    doc_names=name_sets(1, 2),
    page_names=name_sets(1, 3),
    table_names=name_sets(0, 2),
    column_names=name_sets(1, 3),
)
@example(**EVERYTHING_AT_ONCE)
def test_hostile_names_are_backed_up_without_clashes(  # noqa: PLR0917 (fixtures + @given)
    start_module_fake: StartFake,  # module scope: Hypothesis refuses per-test fixtures
    tmp_path_factory: t.Any,
    doc_names: list[str],
    page_names: list[str],
    table_names: list[str],
    column_names: list[str],
) -> None:
    root = tmp_path_factory.mktemp("names")
    ws = build_named_workspace(doc_names, page_names, table_names, column_names)
    output = root / "backups"
    with start_module_fake(ws, token=TOKEN) as fake:
        result = run_pipe(
            {"api_url": fake.url, **FAST_TAP}, {"output_dir": str(output)}, root / "w", token=TOKEN
        )
        url = fake.url
    result.check()
    run = output / (output / "latest.txt").read_text(encoding="utf-8").strip()
    tree = Tree(run, ws, url)
    assert check_run(tree, ws.docs) == []  # every object, byte for byte, no failure
    check_portable_tree(output, run)
    everything = set(root.rglob("*"))
    inside = {p for p in everything if p.is_relative_to(run) or p.is_relative_to(root / "w")}
    assert everything - inside == {output, output / "latest", output / "latest.txt"}
    manifest = tree.json(run / "manifest.json")
    listed = {
        run / f["path"]
        for doc in manifest["docs"]
        for obj in [*doc["pages"], *doc["tables"]]
        for f in obj["files"].values()
    }
    by_id = {doc.id: doc for doc in ws.docs}
    docs_files = {
        run / doc["path"] / n
        for doc in manifest["docs"]
        for n in ("doc.json", "pages.json", "tables.json", *doc_logic_files(by_id[doc["id"]]))
    }
    files = {p for p in run.rglob("*") if p.is_file()}
    own = {run / "manifest.json", run / "summary.json", run / "folders.json"}
    assert files == listed | docs_files | own | viewer_files(run)
