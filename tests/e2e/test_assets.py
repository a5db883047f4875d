"""Images and attachments through `tap-coda | target-files` (issue #14), against the fake's
asset host (a listener of its own) and a host no backup may contact.

Every expectation comes from the fake's ground truth (`Workspace.assets`, what
`fakecoda.assetdocs` puts where): each asset a served page, cover or row refers to is a local
file with the served bytes, each rewritten link opens it from its page's folder, the
failures are exactly the assets that cannot be had, and incremental runs fetch only what
they must.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from fakecoda import FakeCoda
from fakecoda.assetdocs import UNFETCHABLE, build_asset_workspace
from fakecoda.assets import AssetFile
from tests.e2e.assetcase import TOKEN, key_of, load, tap_config
from tests.fakes import StartFake
from tests.helpers import PipeResult, run_pipe, run_tap_without, tap_command

if t.TYPE_CHECKING:
    from fakecoda import Workspace

#: Links of a page file: Markdown targets, and src/href/srcset values.
LINK = re.compile(r"\]\(([^)\s]+)\)|(?:src|href)=\"([^\"]+)\"|srcset=\"([^\"]+)\"")


@dataclass
class Backup:
    fake: FakeCoda
    output: Path
    root: Path
    first: PipeResult

    def run(self, name: str, state: dict[str, t.Any] | None) -> PipeResult:
        target = {"output_dir": str(self.output)}
        return run_pipe(tap_config(self.fake), target, self.root / name, token=TOKEN, state=state)

    @property
    def latest(self) -> Path:
        return self.output / (self.output / "latest.txt").read_text(encoding="utf-8").strip()


def doc_entry(run: Path, name: str = "Assets") -> dict[str, t.Any]:
    return next(d for d in load(run / "manifest.json")["docs"] if d["name"] == name)


def page_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    out = []
    for md, attr, srcset in LINK.findall(text):
        if srcset:
            out += [part.split()[0] for part in srcset.split(",")]
        else:
            out.append(md or attr)
    return out


@pytest.fixture(scope="module")
def backup(start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory) -> Backup:
    root = tmp_path_factory.mktemp("assets")
    fake = start_module_fake(build_asset_workspace(), token=TOKEN, page_clamp=3)
    made = Backup(fake, root / "backups", root, None)  # type: ignore[arg-type]
    made.first = made.run("w1", None).check()
    return made


def fetchable_of(ws: Workspace) -> dict[str, AssetFile]:
    return {k: a for k, a in ws.assets.items() if k not in UNFETCHABLE}


def fetchable(backup: Backup) -> dict[str, AssetFile]:
    return fetchable_of(backup.fake.workspace)


def test_every_asset_is_a_local_file_with_the_served_bytes(backup: Backup) -> None:
    run = backup.latest
    entries = doc_entry(run)["assets"]
    for key, asset in fetchable(backup).items():
        found = [e for e in entries if key_of(key, e["key"])]
        assert len(found) == 1, (key, entries)
        entry = found[0]
        data = (run / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == asset.sha256() == entry["sha256"]
        assert len(data) == asset.length == entry["size"]
        assert entry["content_type"] == asset.content_type
        assert entry["status"] == "fetched"
        assert (run / entry["path"]).resolve().is_relative_to(run.resolve())
    assert not [e for e in entries if any(key_of(k, e["key"]) for k in UNFETCHABLE)]
    # A file referred to twice (two pages, two formats) is stored once.
    logo = next(e for e in entries if key_of("logo", e["key"]))
    assert len(logo["referrers"]) == 2
    assert len({e["path"] for e in entries}) == len(entries)


def test_every_rewritten_link_opens_its_file_from_the_pages_folder(backup: Backup) -> None:
    run = backup.latest
    ws = backup.fake.workspace
    by_path = {e["path"]: e for e in doc_entry(run)["assets"]}
    pages = [p for p in (run / doc_entry(run)["path"]).rglob("*") if p.suffix in (".md", ".html")]
    assert len(pages) == 2 * 3  # Gallery, Sub Gallery, Files in both formats
    opened = set()
    for page in pages:
        for link in page_links(page):
            if link.startswith(("http://", "https://")):
                # Only what cannot be had keeps its Coda link (and ordinary web links).
                assert any(f"/blobs/{k}/" in link for k in UNFETCHABLE) or "coda.io" in link
                continue
            target = (page.parent / unquote(link)).resolve()
            assert target.is_file(), (page, link)
            rel = target.relative_to(run.resolve()).as_posix()
            assert hashlib.sha256(target.read_bytes()).hexdigest() == by_path[rel]["sha256"]
            opened.add(rel)
    in_pages = {"logo", "chart", "chart2x", "report", "large", "hostile"}
    want = {e["path"] for e in by_path.values() if any(key_of(k, e["key"]) for k in in_pages)}
    assert want <= opened
    assert {a.key for a in ws.assets.values()} >= in_pages


def test_csv_and_metadata_keep_codas_values(backup: Backup) -> None:
    run = backup.latest
    csv = next((run / doc_entry(run)["path"]).rglob("*Media*.csv")).read_text(encoding="utf-8")
    assert csv.count("/blobs/photo") == 2  # the cells' URLs, as served
    pages = load(run / doc_entry(run)["path"] / "pages.json")
    cover = next(p for p in pages if p.get("image"))["image"]["browserLink"]
    assert "/blobs/cover/" in cover
    covers = [e for e in doc_entry(run)["assets"] if key_of("cover", e["key"])]
    assert covers and covers[0]["referrers"] == [
        f"page:{next(p for p in pages if p.get('image'))['id']}"
    ]


def test_the_token_never_reaches_an_asset_host_and_no_disallowed_host_is_asked(
    backup: Backup,
) -> None:
    host, elsewhere = backup.fake.asset_host, backup.fake.elsewhere
    assert host is not None and elsewhere is not None
    assert host.log, "the asset host was asked"
    assert not [hit for hit in host.log if hit.authorization]
    assert elsewhere.log == []


def test_failures_are_exactly_the_assets_that_could_not_be_had(backup: Backup) -> None:
    run = backup.latest
    summary = load(run / "summary.json")
    failed = {f["object_id"]: f for f in summary["failures"] if f["object_type"] == "asset"}
    assert {k for k in UNFETCHABLE if any(key_of(k, url) for url in failed)} == set(UNFETCHABLE)
    assert len(failed) == len(UNFETCHABLE)
    assert [f for f in summary["failures"] if f["object_type"] != "asset"] == []
    for key, status in UNFETCHABLE.items():
        failure = next(f for url, f in failed.items() if key_of(key, url))
        assert failure["http_status"] == status and failure["doc_id"] and failure["error"]
        assert failure["name"].startswith("page:")
    gallery = next((run / doc_entry(run)["path"] / "pages").glob("Gallery*.md"))
    assert "/blobs/gone/gone.png?" in gallery.read_text(encoding="utf-8")


def test_an_incremental_run_with_nothing_changed_downloads_no_asset(backup: Backup) -> None:
    host = backup.fake.asset_host
    assert host is not None
    before = len(host.log)
    second = backup.run("w2", backup.first.final_state).check()
    assert len(host.log) == before
    run = backup.latest
    entries = doc_entry(run)["assets"]
    # The cover comes with the page listing again: held (same key and digest), linked.
    assert {e["status"] for e in entries} == {"carried", "held"}
    held = [e for e in entries if e["status"] == "held"]
    assert [e["key"] for e in held] == [e["key"] for e in entries if key_of("cover", e["key"])]
    assert len(entries) == len(fetchable(backup))
    for entry in entries:
        data = (run / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    for page in (run / doc_entry(run)["path"]).rglob("*.md"):
        for link in page_links(page):
            if not link.startswith("http"):
                assert (page.parent / unquote(link)).is_file(), (page, link)
    backup.first = second  # the next test builds on this run


def test_a_page_edit_fetches_only_that_pages_new_assets(backup: Backup) -> None:
    ws, host = backup.fake.workspace, backup.fake.asset_host
    assert host is not None
    doc_id, page_id = ws.tags["doc.assets"], ws.tags["page.sub_gallery"]
    ws.assets["fresh"] = AssetFile("fresh", "fresh.png", "image/png", b"\x89PNG fresh" * 9)
    ws.edit_page(
        doc_id,
        page_id,
        markdown="# Sub\n\n![Logo](coda-asset:logo) ![New](coda-asset:fresh)\n",
        html='<h1>Sub</h1>\n<p><img src="coda-asset:logo"><img src="coda-asset:fresh"></p>\n',
    )
    before = len(host.log)
    backup.run("w3", backup.first.final_state).check()
    assert [hit.path for hit in host.log[before:]] == ["/blobs/fresh/fresh.png"]
    run = backup.latest
    entries = {e["key"].split("/blobs/")[1].split("/")[0]: e for e in doc_entry(run)["assets"]}
    assert entries["fresh"]["status"] == "fetched"
    assert entries["logo"]["status"] == "held"  # seen before: linked, not downloaded
    fresh = (run / entries["fresh"]["path"]).read_bytes()
    assert hashlib.sha256(fresh).hexdigest() == ws.assets["fresh"].sha256()
    sub = next(p for p in (run / doc_entry(run)["path"]).rglob("Sub Gallery*.md"))
    links = page_links(sub)
    assert len(links) == 2 and all((sub.parent / unquote(link)).is_file() for link in links)


def test_another_target_gets_the_assets_as_ordinary_records(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """target-jsonl keeps the `assets` records; the chunks of a file put together again
    are the served bytes (so any Singer target can hold a doc's files)."""
    from tests.e2e.warehouse import pipe, target_bin

    target = target_bin("jsonl", "target-jsonl")
    ws = build_asset_workspace(large_bytes=600 * 1024)
    fake = start_fake(ws, token=TOKEN)
    config = tap_config(fake)
    out = tmp_path / "jsonl"
    out.mkdir()
    pipe(tap_command(config, tmp_path), target, {"destination_path": str(out)}, tmp_path, TOKEN)
    records = [json.loads(line) for line in next(out.glob("assets*.jsonl")).open()]
    for key, asset in fetchable_of(ws).items():
        mine = [r for r in records if f"/blobs/{key}/" in r["key"]]
        chunks = sorted((r for r in mine if r["kind"] == "chunk"), key=lambda r: r["seq"])
        data = b"".join(base64.b64decode(r["data"]) for r in chunks)
        closing = [r for r in mine if r["kind"] == "file"]
        assert len(closing) == 1 and closing[0]["seq"] == len(chunks), key
        assert hashlib.sha256(data).hexdigest() == asset.sha256() == closing[0]["sha256"]
    assert max(r["seq"] for r in records) >= 2  # the large file came in several chunks


def test_coda_backup_no_assets_keeps_the_links(start_fake: StartFake, tmp_path: Path) -> None:
    from tests.e2e.backup_cli import TOKEN as CLI_TOKEN
    from tests.e2e.backup_cli import run_coda_backup

    fake = start_fake(build_asset_workspace(), token=CLI_TOKEN)
    settings = {k: v for k, v in tap_config(fake).items() if k != "api_url"}
    env = {"CODA_BACKUP_TAP_SETTINGS": json.dumps(settings)}
    result = run_coda_backup("--no-assets", output=tmp_path / "out", fake=fake, env=env)
    assert result.returncode == 0, result.stderr
    assert fake.asset_host is not None and fake.asset_host.log == []
    entry = next(d for d in result.manifest()["docs"] if d["name"] == "Assets")
    assert entry["assets"] == []
    gallery = next((result.run_dir / entry["path"] / "pages").glob("Gallery*.md"))
    assert "/blobs/logo/logo.png?" in gallery.read_text(encoding="utf-8")


def test_a_catalog_without_the_assets_stream_fetches_no_asset(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """Deselected, `assets` costs nothing: no asset host is asked (no record would carry
    the bytes), and every other stream is as served."""
    fake = start_fake(build_asset_workspace(), token=TOKEN)
    done = run_tap_without(tap_config(fake), tmp_path, "assets", token=TOKEN)
    streams = {json.loads(line).get("stream") for line in done.stdout.splitlines()}
    assert "assets" not in streams and "page_contents" in streams
    assert fake.asset_host is not None and fake.asset_host.log == []
