"""Large page exports (issue #12, point 1): a page export of tens of MB goes through the real
`tap-coda | target-files` pipe as `page_content_parts`, and neither process's resident
memory grows with it; an asset link cut by a part's end is found and rewritten all the same.

Expectations come from the fake's ground truth (`Workspace.export_content`, its assets);
the memory bound is the kernel's peak RSS of each child (`wait4`), not a time.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from fakecoda import build_test_workspace
from fakecoda.assetdocs import build_asset_workspace
from fakecoda.assets import AssetFile
from tap_coda.spooled import PART_BYTES
from target_files import relink
from tests.e2e.assetcase import TOKEN, tap_config
from tests.e2e.measured import measured_pipe
from tests.e2e.tree import page_stem_path
from tests.e2e.warehouse import target_bin
from tests.helpers import FAST_TAP, child_env, run_pipe, run_tap_without, script

if t.TYPE_CHECKING:
    from fakecoda import Doc, Page, Workspace
    from tests.fakes import StartFake

#: The issue's bound on each process, whatever the export's size.
MAX_RSS_MB = 200
BIG_MB = 48
FILLER = "lorem ipsum dolor sit amet " * 3 + "\n"


@dataclass
class Run:
    run: Path
    ws: Workspace
    peak_mb: dict[str, float]
    tap_tmp: Path


def _pipe(config: dict[str, t.Any], ws: Workspace, workdir: Path) -> Run:
    """`tap-coda | target-files`, each one's own peak RSS (`measured_pipe`); the tap's
    temporary files go to a folder of the test's own."""
    tap_tmp = workdir / "tmp"
    tap_tmp.mkdir(parents=True)
    output = workdir / "backups"
    done = measured_pipe(
        config, {"output_dir": str(output)}, workdir, token=TOKEN, tap_env={"TMPDIR": str(tap_tmp)}
    ).check()
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    return Run(output / latest, ws, done.peak_mb, tap_tmp)


def _filler(size: int) -> str:
    return (FILLER * (size // len(FILLER) + 1))[:size]


def test_a_48_mb_page_export_is_backed_up_byte_for_byte_in_bounded_memory(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_test_workspace()
    doc = ws.docs[0]
    page = next(p for p in doc.pages if p.content_type == "canvas" and not p.export_fails)
    ws.edit_page(doc.id, page.id, markdown=_filler(BIG_MB << 20), html="<p>small</p>")
    want = ws.export_content(doc, page, "markdown").encode("utf-8")
    fake = start_fake(ws, token=TOKEN)
    config = {"api_url": fake.url, **FAST_TAP, "doc_ids": [doc.id]}

    done = _pipe(config, ws, tmp_path / "w")

    path = page_stem_path(done, doc, page).with_suffix(".md")
    assert path.stat().st_size == len(want) > BIG_MB << 20
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(want).digest()
    manifest = json.loads((done.run / "manifest.json").read_text(encoding="utf-8"))
    rel = path.relative_to(done.run).as_posix()
    assert manifest["files"][rel]["sha256"] == hashlib.sha256(want).hexdigest()
    assert done.peak_mb["tap"] < MAX_RSS_MB, done.peak_mb
    assert done.peak_mb["target"] < MAX_RSS_MB, done.peak_mb
    assert list(done.tap_tmp.iterdir()) == []  # the tap's work files are gone


def test_an_asset_link_cut_by_a_parts_end_is_fetched_and_rewritten(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_asset_workspace()
    ws.assets["straddle"] = AssetFile("straddle", "cut.png", "image/png", b"\x89PNG cut in two")
    doc = next(d for d in ws.docs if d.name == "Plain")  # no asset of its own
    page = next(p for p in doc.pages if p.content_type == "canvas" and not p.export_fails)
    fake = start_fake(ws, token=TOKEN)
    assert fake.asset_host is not None
    link = "![Cut](coda-asset:straddle)"
    # The link's URL starts 30 bytes before a part ends: its signed form runs past it.
    ws.edit_page(doc.id, page.id, markdown=link, html="<p>small</p>")
    before = ws.export_content(doc, page, "markdown").index("coda-asset:straddle")
    markdown = _filler(PART_BYTES - 30 - before) + link + "\n" + _filler(PART_BYTES)
    ws.edit_page(doc.id, page.id, markdown=markdown, html="<p>small</p>")
    exported = ws.export_content(doc, page, "markdown")
    start = exported.index("coda-asset:straddle")
    assert exported.count("coda-asset:") == 1
    assert start < PART_BYTES < start + len(fake.asset_host.link("straddle"))

    done = _pipe({**tap_config(fake), "page_formats": ["markdown"]}, ws, tmp_path / "w")

    entry = next(
        d for d in json.loads((done.run / "manifest.json").read_text())["docs"] if d["id"] == doc.id
    )
    (asset,) = [a for a in entry["assets"] if "/blobs/straddle/" in a["key"]]
    assert asset["sha256"] == ws.assets["straddle"].sha256()
    path = page_stem_path(done, doc, page).with_suffix(".md")
    local = quote(posixpath.relpath(asset["path"], path.relative_to(done.run).parent.as_posix()))
    assert path.read_bytes() == exported.replace("coda-asset:straddle", local).encode("utf-8")
    assert list(done.tap_tmp.iterdir()) == []


@pytest.mark.parametrize("size", [1, 5, 6, 12])
def test_relink_blocks_never_split_a_url(size: int) -> None:
    """Pure: however the text is read, the blocks join to it again, each ends after
    whitespace, and each URL lies whole in one of them."""
    text = "a b https://x/y?z=1 c\nlong-token-without-space d ![i](https://h/p.png)"
    out = list(relink.blocks(text[i : i + size] for i in range(0, len(text), size)))
    assert "".join(out) == text
    assert all(block[-1].isspace() for block in out[:-1])
    for url in ("https://x/y?z=1", "https://h/p.png"):
        assert sum(url in block for block in out) == 1


@pytest.fixture(scope="module")
def tapped(start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory) -> Tapped:
    """One `tap-coda | tee | target-files` run of the test workspace with a 3 MiB page."""
    ws = build_test_workspace()
    doc = ws.docs[0]
    page = next(p for p in doc.pages if p.content_type == "canvas" and not p.export_fails)
    ws.edit_page(doc.id, page.id, markdown=_filler(3 * PART_BYTES), html="<p>small</p>")
    fake = start_module_fake(ws, token=TOKEN)
    root = tmp_path_factory.mktemp("parts")
    config = {"api_url": fake.url, **FAST_TAP, "doc_ids": [doc.id]}
    ran = run_pipe(config, {"output_dir": str(root / "out")}, root, token=TOKEN, tee=True)
    ran.check()
    return Tapped(ws, doc, page, root / "tap-output.jsonl", root)


@dataclass
class Tapped:
    ws: Workspace
    doc: Doc
    page: Page
    lines: Path  # what the tap wrote
    root: Path


def test_another_target_keeps_the_parts_as_records_that_join_to_the_export(
    tapped: Tapped,
) -> None:
    out = tapped.root / "jsonl"
    out.mkdir()
    config = tapped.root / "jsonl.json"
    config.write_text(json.dumps({"destination_path": str(out)}), encoding="utf-8")
    with tapped.lines.open("rb") as lines:
        subprocess.run(
            [str(target_bin("jsonl", "target-jsonl")), "--config", str(config)],
            stdin=lines,
            check=True,
            capture_output=True,
            cwd=tapped.root,
        )
    (parts_file,) = out.glob("page_content_parts-*.jsonl")
    parts = [json.loads(line) for line in parts_file.read_text(encoding="utf-8").splitlines()]
    mine = sorted((p["seq"], p["content"]) for p in parts if p["page_id"] == tapped.page.id)
    assert [seq for seq, _ in mine] == list(range(len(mine)))
    want = tapped.ws.export_content(tapped.doc, tapped.page, "markdown")
    assert "".join(text for _, text in mine) == want
    (contents_file,) = out.glob("page_contents-*.jsonl")
    contents = [json.loads(line) for line in contents_file.read_text(encoding="utf-8").splitlines()]
    (record,) = [
        c for c in contents if c["page_id"] == tapped.page.id and c["format"] == "markdown"
    ]
    assert (record["content"], record["parts"]) == (None, len(mine))
    small = [c for c in contents if c["page_id"] != tapped.page.id]
    assert small and all("parts" not in c and c["content"] is not None for c in small)


def test_a_page_missing_a_part_fails_alone_and_the_run_is_kept(tapped: Tapped) -> None:
    lines = tapped.lines.read_bytes().splitlines(keepends=True)
    dropped = [
        line
        for line in lines
        if b'"page_content_parts"' in line and b'"RECORD"' in line and b'"seq":1,' in line
    ]
    assert len(dropped) == 1
    (tapped.root / "cut.jsonl").write_bytes(b"".join(x for x in lines if x not in dropped))
    output = tapped.root / "cut-out"
    config = tapped.root / "cut-target.json"
    config.write_text(json.dumps({"output_dir": str(output)}), encoding="utf-8")
    with (tapped.root / "cut.jsonl").open("rb") as stdin:
        done = subprocess.run(
            [script("target-files"), "--config", str(config)],
            check=False,
            stdin=stdin,
            capture_output=True,
            text=True,
            env=child_env(),
        )
    assert done.returncode == 0, done.stderr[-2000:]
    run = output / (output / "latest.txt").read_text(encoding="utf-8").strip()
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    mine = [f for f in summary["failures"] if f.get("object_id") == tapped.page.id]
    assert [(f["format"], f["error"]) for f in mine] == [
        ("markdown", "the export's parts are incomplete: part 2 came where 1 was due")
    ]
    backup = Run(run, tapped.ws, {}, tapped.root)
    assert not page_stem_path(backup, tapped.doc, tapped.page).with_suffix(".md").exists()
    other = next(
        p
        for p in tapped.doc.pages
        if p.content_type == "canvas" and p is not tapped.page and not p.export_fails
    )
    want = tapped.ws.export_content(tapped.doc, other, "markdown").encode("utf-8")
    assert page_stem_path(backup, tapped.doc, other).with_suffix(".md").read_bytes() == want


def test_with_the_parts_stream_deselected_a_large_export_travels_whole(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """A catalog without `page_content_parts` (a warehouse that wants whole pages) still
    gets every large page: its `page_contents` record carries the whole export, no part."""
    ws = build_test_workspace()
    doc = ws.docs[0]
    page = next(p for p in doc.pages if p.content_type == "canvas" and not p.export_fails)
    ws.edit_page(doc.id, page.id, markdown=_filler(2 * PART_BYTES + 7), html="<p>small</p>")
    fake = start_fake(ws, token=TOKEN)
    config = {"api_url": fake.url, **FAST_TAP, "doc_ids": [doc.id], "download_assets": False}
    done = run_tap_without(config, tmp_path, "page_content_parts", token=TOKEN)
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    streams = {m.get("stream") for m in messages if m["type"] in ("SCHEMA", "RECORD")}
    assert "page_content_parts" not in streams
    (record,) = [
        m["record"]
        for m in messages
        if m["type"] == "RECORD"
        and m["stream"] == "page_contents"
        and m["record"]["page_id"] == page.id
        and m["record"]["format"] == "markdown"
    ]
    assert record["content"] == ws.export_content(doc, page, "markdown")
    assert "parts" not in record
