"""The viewer shows a page's pictures from the run's own copies (issues #14 and #16): a
backup of the fake's asset doc, opened from file:// in headless Chromium, shows the
Gallery's images decoded from files inside the run, and nothing is asked of the fake's
API or its asset host while browsing."""

from __future__ import annotations

import typing as t
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fakecoda.assetdocs import UNFETCHABLE, build_asset_workspace
from tests.e2e.assetcase import TOKEN, key_of, load, tap_config
from tests.e2e.browser import chromium_page, screenshot
from tests.helpers import run_pipe

if t.TYPE_CHECKING:
    from tests.fakes import StartFake

#: The pictures the Gallery page shows, as the fake's asset doc puts them there.
GALLERY_PICTURES = {"logo", "chart", "hostile"}


def test_a_page_shows_its_pictures_from_the_runs_copies(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_asset_workspace(), token=TOKEN, page_clamp=3)
    output = tmp_path / "backups"
    run_pipe(tap_config(fake), {"output_dir": str(output)}, tmp_path / "w", token=TOKEN).check()
    run = output / (output / "latest.txt").read_text(encoding="utf-8").strip()
    doc = next(d for d in load(run / "manifest.json")["docs"] if d["name"] == "Assets")
    held = {
        key: (run / entry["path"]).resolve()
        for entry in doc["assets"]
        for key in GALLERY_PICTURES | set(UNFETCHABLE)
        if key_of(key, entry["key"]) and entry["status"] == "fetched"
    }
    assert set(held) == GALLERY_PICTURES  # the unfetchable ones have no copy to show
    fake.reset_log()
    assert fake.asset_host is not None
    fake.asset_host.log.clear()  # the tap's downloads: browsing must add nothing
    with chromium_page() as (page, recorder):
        page.goto((run / "index.html").as_uri())
        page.click("table.docs a >> text=Assets")
        page.click("ul.tree a >> text=Gallery")
        page.wait_for_load_state("load")
        shown = page.eval_on_selector_all(
            "article img[src]",
            "imgs => imgs.map(i => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0}))",
        )
        screenshot(page, "viewer-page-assets")
    files = {Path(unquote(urlsplit(img["src"]).path)).resolve() for img in shown}
    assert all(img["ok"] for img in shown), shown
    assert all(img["src"].startswith("file://") for img in shown), shown
    assert set(held.values()) <= files  # every picture the run holds is shown from its copy
    assert all(f.is_relative_to(run.resolve()) for f in files), files
    assert [u for u in recorder.requests if not u.startswith("file://")] == []
    assert recorder.csp == []
    assert fake.log == []
    assert fake.asset_host.log == []
