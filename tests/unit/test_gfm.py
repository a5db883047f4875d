"""The viewer's Markdown rendering (`target_files.viewer.gfm`): cmarkgfm's HTML byte for
byte, without the C memory cmarkgfm's own wrapper never frees (issue #17)."""

from __future__ import annotations

from pathlib import Path

import cmarkgfm
import pytest

from target_files.viewer import gfm
from target_files.viewer.content import _GFM

TABLE_PAGE = (
    "# Title é 中\n\nSome *text*, ~~gone~~, `code`, [a link](x.md) and ![pic](a.png).\n\n"
    "| a | b |\n|---|---|\n" + "".join(f"| {i} | **{i}** |\n" for i in range(1000))
)
SAMPLES = [
    "",
    "plain",
    TABLE_PAGE,
    "<script>alert(1)</script>\n\n<b>raw</b>",
    "* one\n  * two\n\n> quote\n\n```py\nx = 1\n```\n",
    "\ufffd broken \x00 nul",
]


def resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * 4096 / 1e6


@pytest.mark.parametrize("text", SAMPLES)
def test_the_html_is_cmarkgfms_own(text: str) -> None:
    assert gfm.to_html(text, _GFM) == cmarkgfm.markdown_to_html_with_extensions(
        text, extensions=_GFM
    )


def test_an_unknown_extension_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        gfm.to_html("x", ["no-such-extension"])


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_rendering_a_page_again_and_again_keeps_no_memory() -> None:
    """cmarkgfm's wrapper keeps each parsed document (about 1.4 MB for this page of a
    1,000-row table): 50 renders would keep some 70 MB. Freed, they keep nothing."""
    gfm.to_html(TABLE_PAGE, _GFM)
    before = resident_mb()
    for _ in range(50):
        gfm.to_html(TABLE_PAGE, _GFM)
    assert resident_mb() - before < 10
