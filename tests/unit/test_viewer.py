"""The viewer's pure pieces: a page's content made safe and its links rebased from the
page file's folder to the view's, and a large table's view holding its first rows."""

from __future__ import annotations

import csv
import json
import logging
import posixpath
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from target_files import viewer
from target_files.viewer import content, markup, tableview
from target_files.viewer.docview import DocViews
from target_files.viewer.markup import CSP_NO_SCRIPT, CSP_SCRIPT, document, esc, label

PAGE = "docs/Doc__d1/pages/Parent__p1/Child__p2.html"
VIEW = "viewer/1/p2.html"
IMAGE = "docs/Doc__d1/assets/pic__a1.png"


def rebase(files: set[str], assets: dict[str, str] | None = None) -> content.Rebase:
    return content.Rebase(files=files, assets=assets or {})


def clean(raw: str, files: set[str], assets: dict[str, str] | None = None) -> str:
    return content.sanitize(raw, content.Source(PAGE, "html", VIEW), rebase(files, assets))


def test_a_local_image_is_rebased_to_the_view_and_still_names_the_same_file() -> None:
    relative = posixpath.relpath(IMAGE, posixpath.dirname(PAGE))
    out = clean(f'<p>x</p><img src="{relative}" alt="pic">', {IMAGE})
    src = out.split('src="')[1].split('"')[0]
    assert posixpath.normpath(posixpath.join(posixpath.dirname(VIEW), src)) == IMAGE


def test_a_remote_image_points_at_the_held_copy_or_loses_its_src() -> None:
    url = "https://codahosted.io/docs/d1/blobs/bl-1/pic.png"
    held = clean(f'<img src="{url}" alt="pic">', {IMAGE}, {url: IMAGE})
    assert "codahosted" not in held
    assert posixpath.basename(IMAGE) in held
    dropped = clean(f'<img src="{url}" alt="pic">', {IMAGE})
    assert "src=" not in dropped
    assert 'alt="pic"' in dropped


def test_a_relative_path_outside_the_run_or_not_in_it_is_dropped() -> None:
    for src in ("../../../../../../etc/passwd", "missing.png", "/etc/passwd", "file:///etc/x"):
        assert "src=" not in clean(f'<img src="{src}">', {IMAGE}), src


def test_scripts_handlers_styles_and_frames_are_removed() -> None:
    raw = (
        "<p onclick='x()'>Text</p><script>alert(1)</script><style>p{}</style>"
        "<iframe src='https://x'></iframe><a href='javascript:alert(1)'>j</a>"
        "<form action='https://x'><input></form><svg><script>alert(2)</script></svg>"
    )
    out = clean(raw, set())
    for bad in ("<script", "onclick", "<style", "<iframe", "javascript:", "<form", "alert", "<svg"):
        assert bad not in out, bad
    assert "Text" in out


def test_markdown_is_rendered_and_its_raw_html_left_out(tmp_path: Path) -> None:
    rel = "docs/D__d/pages/P__p.md"
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_text("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<b>raw</b>\n")
    out, cut = content.render(tmp_path, content.Source(rel, "markdown", VIEW), rebase({rel}))
    assert cut is None
    assert "<h1>Title</h1>" in out
    assert "<table>" in out
    assert "<b>" not in out
    assert "raw" in out


def test_a_big_page_shows_its_first_bytes_cut_at_a_line(tmp_path: Path) -> None:
    rel = "docs/D__d/pages/P__p.md"
    (tmp_path / rel).parent.mkdir(parents=True)
    lines = [f"line {n} é" for n in range(content.SHOWN_BYTES // 5)]
    (tmp_path / rel).write_text("\n\n".join(lines), encoding="utf-8")
    out, size = content.render(tmp_path, content.Source(rel, "markdown", VIEW), rebase({rel}))
    assert size == (tmp_path / rel).stat().st_size
    shown = [line for line in lines if f"<p>{line}</p>" in out]
    assert shown == lines[: len(shown)]
    assert 0 < len(shown) < len(lines)
    assert "\ufffd" not in out


def test_page_views_allow_no_script_and_run_views_only_their_own() -> None:
    page = document(VIEW, "t", "<p>x</p>")
    assert esc(CSP_NO_SCRIPT) in page
    assert "<script" not in page
    run = document("index.html", "t", "<p>x</p>", script=True)
    assert esc(CSP_SCRIPT) in run
    assert '<script src="viewer/viewer.js" defer></script>' in run
    for csp in (CSP_SCRIPT, CSP_NO_SCRIPT):
        assert "default-src 'none'" in csp
        assert "http" not in csp


def test_a_large_table_shows_its_first_rows_and_links_the_full_csv(tmp_path: Path) -> None:
    rel = "docs/D__d/tables/table/T__t.csv"
    (tmp_path / rel).parent.mkdir(parents=True)
    total = tableview.PREVIEW_ROWS + 7
    with (tmp_path / rel).open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        header = ["_row_id", "_row_name", "_row_index", "_created_at", "_updated_at"]
        out.writerow([*header, "_browser_link", "Name"])
        out.writerows([f"i-{n}", f"row {n}", n, "", "", "", f"<b>{n}</b>"] for n in range(total))
    entry = {"id": "t", "name": "T", "csvRows": total, "files": {"csv": {"path": rel}}}
    html, rows = tableview.view(tmp_path, "viewer/1/t1.html", entry, [])
    assert rows is not None
    cells = json.loads(rows.removeprefix("codaViewer.rows(").removesuffix(");\n"))
    assert [c[0] for c in cells] == [f"row {n}" for n in range(tableview.PREVIEW_ROWS)]
    assert cells[0] == ["row 0", "<b>0</b>"]  # text, which viewer.js sets as text
    assert f"of {total:,} rows" in html
    assert 'href="../../docs/D__d/tables/table/T__t.csv"' in html
    assert 'src="t1.rows.js"' in html


def test_a_blank_name_is_shown_as_untitled() -> None:
    assert label("  ", "canvas-1") == "(untitled canvas-1)"
    assert label("Name", "canvas-1") == "Name"


def test_a_failing_index_is_one_warning_and_never_stops_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def full_disk(rel: str, text: str) -> None:
        raise OSError(28, "No space left on device", rel)

    tree = SimpleNamespace(prev=None, root=tmp_path, run_id="r", files={}, write_text=full_disk)
    with caplog.at_level(logging.WARNING):
        viewer.write(tree, SimpleNamespace(docs=[]), {})  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records if "index.html not written" in r.getMessage()]


def test_a_deep_page_tree_needs_no_recursion(tmp_path: Path) -> None:
    depth = sys.getrecursionlimit() * 2
    pages = [
        {"id": f"p{n}", "name": f"Page {n}", "parent_id": f"p{n - 1}" if n else None}
        for n in range(depth)
    ]
    views = DocViews(tmp_path, set(), {"id": "d", "name": "D", "pages": pages}, 1)
    html = views.tree_html(views.load_pages())
    assert html.count("<li>") == html.count("</li>") == depth
    assert html.count("<ul") == html.count("</ul>") == depth


_PART = st.sampled_from(["viewer", "1", "docs", "Doc__d1", "p1.html", "a b", "", ".", ".."])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PART, min_size=1, max_size=5), st.lists(_PART, min_size=1, max_size=5))
@example(["viewer", "3", "p1.html"], ["viewer", "3"])  # the view's own folder: "."
@example(["viewer", "3", "p1.html"], ["viewer"])  # a folder above it: ".."
@example(["index.html"], ["viewer", "viewer.css"])  # from the run's top
def test_relative_links_are_what_relpath_gives(here: list[str], there: list[str]) -> None:
    """The views' string-only relative path (markup.relative) against posixpath.relpath,
    for normal run paths and odd ones (empty, `.` and `..` parts take relpath's road)."""
    from_rel, to_rel = "/".join(here), "/".join(there)
    assume(to_rel and not to_rel.startswith("/") and not from_rel.startswith("/"))
    assume(posixpath.normpath(to_rel) != ".." and not posixpath.normpath(to_rel).startswith("../"))
    assume(not posixpath.normpath(from_rel).startswith(".."))
    expected = posixpath.relpath(to_rel, posixpath.dirname(from_rel) or ".")
    assert markup.relative(from_rel, to_rel) == expected
