"""The run's index.html in a real browser (Debian's headless Chromium through Playwright),
opened from file:// after two real `coda-backup` runs against the fake: every doc, page
and table reached by clicking and checked against the fake's ground truth, a table
filtered and sorted, the changes equal to `coda-backup diff`, failures and skips listed,
and no request beyond file:// (nor a CSP violation), even from a page built to make one.
Screenshots of the index, a page and a table go to test-artifacts/."""

from __future__ import annotations

import base64
import json
import struct
import typing as t
import zlib
from html.parser import HTMLParser

import pytest

from fakecoda import build_test_workspace
from target_files.viewer.markup import STYLE, document
from target_files.viewer.tableview import PREVIEW_ROWS
from tests.e2e.backup_cli import TOKEN, Result, run_coda_backup
from tests.e2e.browser import chromium_page, screenshot
from tests.snap.runfolders import coda_backup

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

    from fakecoda import Doc, FakeCoda, Workspace
    from tests.e2e.browser import Recorder
    from tests.fakes import StartFake

HOSTILE = "Hostile HTML"
PICTURE = "Inline Picture"


def owned_docs(ws: Workspace) -> list[Doc]:
    """The docs a run without --include-shared backs up."""
    return [d for d in ws.docs if d.listed and d.is_owner]


def readable_docs(ws: Workspace) -> list[Doc]:
    """... of which these have pages and tables (the others are over Coda's size limit)."""
    return [d for d in owned_docs(ws) if not d.over_api_size_limit]


def png(width: int, height: int) -> bytes:
    """A small valid PNG, made here (no file in the repo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def hostile_html(base: str) -> str:
    """Everything a backed-up page could hold to run script or reach the network."""
    return (
        "<p>Hostile content stays inert.</p>"
        '<script>document.title = "pwned-script"</script>'
        '<img src="nowhere.png" onerror="document.title=\'pwned-onerror\'" alt="broken">'
        f'<img src="{base}/remote.png" alt="remote image">'
        f'<iframe src="{base}/frame"></iframe>'
        f'<link rel="stylesheet" href="{base}/sheet.css">'
        f"<style>@import url({base}/import.css); body {{ background: url({base}/bg.png) }}</style>"
        "<a href=\"javascript:document.title='pwned-link'\">a script link</a>"
        f'<p style="background: url({base}/inline.png)">A styled paragraph.</p>'
        f'<form action="{base}/post"><input name="q"></form>'
        f'<object data="{base}/object"></object>'
    )


def customize(ws: Workspace, remote: str) -> Doc:
    """A hostile page and a page with an inline picture in the first doc."""
    doc = readable_docs(ws)[0]
    ws.add_page(
        doc.id, HOSTILE, markdown="Hostile content stays inert.\n", html=hostile_html(remote)
    )
    picture = base64.b64encode(png(3, 2)).decode()
    html = f'<p>A picture kept inline.</p><img src="data:image/png;base64,{picture}" alt="dot">'
    ws.add_page(doc.id, PICTURE, markdown="A picture kept inline.\n", html=html)
    return doc


def mutate(ws: Workspace) -> None:
    """A row edited and a page edited between the two runs."""
    doc, table = next((d, tb) for d, tb in ws.iter_tables() if tb.table_type == "table" and tb.rows)
    column = next(c for c in table.columns if c.format.get("type") == "text" and not c.calculated)
    ws.edit_row(doc.id, table.id, table.rows[0].id, {column.id: "Edited between the runs"})
    page = next(p for p in doc.pages if p.content_type == "canvas" and not p.export_fails)
    ws.edit_page(doc.id, page.id, markdown="# Edited\n\nEdited between the runs.\n")


class Backup(t.NamedTuple):
    fake: FakeCoda
    ws: Workspace
    result: Result
    diff: dict[str, t.Any]


@pytest.fixture(scope="module")
def backup(start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory) -> Backup:
    ws = build_test_workspace(seed=0)
    fake = start_module_fake(ws, token=TOKEN, page_clamp=100)
    customize(ws, fake.url.split("/apis/")[0])
    output = tmp_path_factory.mktemp("viewer") / "backups"
    first = run_coda_backup("--html-pages", output=output, fake=fake)
    assert first.returncode in (0, 3), first.stderr[-3000:]
    mutate(ws)
    second = run_coda_backup("--html-pages", "--incremental", output=output, fake=fake)
    assert second.returncode in (0, 3), second.stderr[-3000:]
    diff = coda_backup("diff", "--output", str(output), "--json")
    assert diff.returncode == 0, diff.stderr
    fake.reset_log()
    return Backup(fake, ws, second, json.loads(diff.stdout))


@pytest.fixture(scope="module")
def browser() -> Iterator[tuple[Page, Recorder]]:
    with chromium_page() as opened:
        yield opened


@pytest.fixture
def tab(browser: tuple[Page, Recorder], backup: Backup) -> Iterator[tuple[Page, Recorder]]:
    """The browser at the run's index.html; afterwards, nothing left file:// (checked
    in the browser and in the fake's request log) and nothing broke the CSP."""
    page, recorder = browser
    recorder.requests.clear()
    recorder.csp.clear()
    page.goto((backup.result.run_dir / "index.html").as_uri())
    yield page, recorder
    assert recorder.requests, "the recorder saw no request at all"
    assert [u for u in recorder.requests if not u.startswith("file://")] == []
    assert recorder.csp == []
    assert recorder.errors == []
    assert backup.fake.log == []


def words(text: str | None) -> str:
    """Text as a browser shows it: whitespace runs as one space, NUL as U+FFFD."""
    return " ".join((text or "").replace("\x00", "\ufffd").split())


class Paragraphs(HTMLParser):
    """The text of every <p> of an export (what the page view must show)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: t.Any) -> None:
        if tag == "p":
            self._depth += 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.texts[-1] += data


def shown(obj: t.Any) -> str:
    """An object's name as the viewer shows it (a blank name as "(untitled ID)")."""
    return words(obj.name) or f"(untitled {obj.id})"


def paragraphs(html: str) -> list[str]:
    parser = Paragraphs()
    parser.feed(html)
    return [w for w in map(words, parser.texts) if w]


def tree_links(page: Page) -> list[dict[str, t.Any]]:
    """Each page link of the doc's tree: its text, its parent's link text, its marks."""
    return page.eval_on_selector_all(
        "ul.tree a",
        """links => links.map(a => {
            const li = a.closest('li');
            const up = li.parentElement.closest('li');
            return {name: a.textContent, marks: li.querySelector(':scope > .badge.hidden')
                ? 'hidden' : '', parent: up ? up.querySelector(':scope > a').textContent : null};
        })""",
    )


def open_doc(page: Page, doc: Doc) -> None:
    names = page.eval_on_selector_all("table.docs a", "as => as.map(a => a.textContent)")
    page.click(f"table.docs a >> nth={names.index(doc.name)}")


def check_doc_logic(page: Page, doc: Doc) -> None:
    """The doc's index shows its formulas and controls by name, and every permission."""
    for stem, objects in (("formulas", doc.formulas), ("controls", doc.controls)):
        shown_text = words(page.inner_text(f"section#{stem}"))
        for obj in objects:
            assert words(obj.name) in shown_text, (stem, obj.name)
    if doc.sharing is not None:
        rows = page.eval_on_selector_all(
            "section#permissions > table > tbody > tr", "r => r.length"
        )
        assert rows == len(doc.sharing.permissions)
        assert page.query_selector("section#sharing") is not None


def check_page(page: Page, backup: Backup, doc: Doc, wanted: t.Any) -> int:
    """The page view open now shows the page's export; returns how many images it loaded."""
    assert words(page.text_content("h1")).startswith(shown(wanted))
    if wanted.content_type == "canvas" and not wanted.export_fails:
        text_shown = words(page.inner_text("article.page"))
        for text in paragraphs(backup.ws.export_content(doc, wanted, "html")):
            assert text in text_shown, (wanted.name, text)
    images = page.eval_on_selector_all(
        "article img[src]", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
    )
    assert all(images), wanted.name
    return len(images)


def test_every_doc_page_and_table_is_reached_by_clicking(
    tab: tuple[Page, Recorder], backup: Backup
) -> None:
    page, _ = tab
    screenshot(page, "viewer-index")
    doc_names = page.eval_on_selector_all("table.docs a", "as => as.map(a => a.textContent)")
    assert sorted(map(words, doc_names)) == sorted(shown(d) for d in owned_docs(backup.ws))
    manifest = {d["id"]: d for d in backup.result.manifest()["docs"]}
    images = 0
    for doc in readable_docs(backup.ws):
        open_doc(page, doc)
        check_doc_logic(page, doc)
        pages = backup.ws.pages_in_order(doc)
        links = tree_links(page)
        assert [words(link["name"]) for link in links] == [shown(p) for p in pages]
        by_id = {p.id: p for p in doc.pages}
        for link, wanted in zip(links, pages, strict=True):
            parent = by_id.get(wanted.parent_id or "")
            assert words(link["parent"]) == (shown(parent) if parent else "")
            assert link["marks"] == ("hidden" if backup.ws.effectively_hidden(doc, wanted) else "")
        for position, wanted in enumerate(pages):
            page.click(f"ul.tree a >> nth={position}")
            images += check_page(page, backup, doc, wanted)
            if wanted.name == PICTURE:
                screenshot(page, "viewer-page")
            page.go_back()
        tables = {tb.id: tb for tb in doc.tables}
        for position, entry in enumerate(manifest[doc.id]["tables"]):
            wanted = tables[entry["id"]]
            page.click(f"ul.tables a >> nth={position}")
            assert words(page.text_content("h1")).startswith(shown(wanted))
            names = page.eval_on_selector_all(
                "table.rows tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
            )
            rows = backup.ws.rows_of(doc, wanted)[:PREVIEW_ROWS]
            assert list(map(words, names)) == [words(r.name) for r in rows]
            page.go_back()
        page.go_back()
    assert images >= 1  # the inline picture


def test_hostile_page_runs_nothing(tab: tuple[Page, Recorder], backup: Backup) -> None:
    page, _ = tab
    doc = readable_docs(backup.ws)[0]
    open_doc(page, doc)
    page.click(f"ul.tree a >> text={HOSTILE}")
    assert "Hostile content stays inert." in page.inner_text("article.page")
    assert page.title() == HOSTILE
    assert page.eval_on_selector_all("article img[src]", "imgs => imgs.length") == 0
    for tag in ("script", "iframe", "style", "form", "object", "link"):
        assert page.query_selector_all(f"article {tag}") == [], tag
    page.click("text=a script link")  # no href left: clicking does nothing
    assert page.title() == HOSTILE


def test_the_csp_alone_stops_what_sanitizing_would_miss(
    browser: tuple[Page, Recorder], backup: Backup, tmp_path: Path
) -> None:
    """The second wall: hostile HTML put into a view unsanitized still runs nothing and
    reaches nothing (Chromium takes 'self' on a file:// page as file:// only), as the
    fake's own request log shows; the view's stylesheet (a file:// load) still applies."""
    page, recorder = browser
    remote = backup.fake.url.split("/apis/")[0]
    (tmp_path / STYLE).parent.mkdir(parents=True)
    (tmp_path / STYLE).write_text("h1 { color: rgb(1, 2, 3); }", encoding="utf-8")
    view = "viewer/1/p1.html"
    (tmp_path / view).parent.mkdir(parents=True)
    (tmp_path / view).write_text(
        document(view, "raw", f"<h1>Raw</h1>{hostile_html(remote)}"), "utf-8"
    )
    recorder.csp.clear()
    backup.fake.reset_log()
    page.goto((tmp_path / view).as_uri())
    page.wait_for_load_state("load")
    assert page.title() == "raw"
    assert page.eval_on_selector("h1", "h => getComputedStyle(h).color") == "rgb(1, 2, 3)"
    assert recorder.csp  # the violations were seen and blocked
    assert backup.fake.log == []


def test_a_table_filters_and_sorts(tab: tuple[Page, Recorder], backup: Backup) -> None:
    page, _ = tab
    doc, table = max(
        ((d, tb) for d, tb in backup.ws.iter_tables() if tb.table_type == "table"),
        key=lambda pair: len(pair[1].rows),
    )
    entries = next(d for d in backup.result.manifest()["docs"] if d["id"] == doc.id)["tables"]
    position = [e["id"] for e in entries].index(table.id)
    open_doc(page, doc)
    page.click(f"ul.tables a >> nth={position}")
    names = [words(r.name) for r in backup.ws.rows_of(doc, table)]
    word = names[0].split()[0].lower()
    cells = page.eval_on_selector_all(
        "table.rows tbody tr", "rows => rows.map(r => r.textContent.toLowerCase())"
    )
    page.fill("#filter", word)
    visible = page.eval_on_selector_all(
        "table.rows tbody tr:not([hidden])", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert len(visible) == sum(word in c for c in cells) >= 1
    assert page.text_content("#shown") == str(len(visible))
    page.fill("#filter", "")
    page.click("table.rows th >> nth=0")
    order = page.eval_on_selector_all(
        "table.rows tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert [s.lower() for s in order] == sorted(n.lower() for n in names)
    assert page.get_attribute("table.rows th >> nth=0", "aria-sort") == "ascending"
    page.click("table.rows th >> nth=0")
    order = page.eval_on_selector_all(
        "table.rows tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert [s.lower() for s in order] == sorted((n.lower() for n in names), reverse=True)
    screenshot(page, "viewer-table")


def test_coda_backup_view_prints_the_run_index(backup: Backup) -> None:
    output = backup.result.output
    ran = coda_backup("view", "--output", str(output))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == str(backup.result.run_dir / "index.html")
    uri = coda_backup("view", "--output", str(output), "--uri", backup.result.run_dir.name)
    assert uri.stdout.strip() == (backup.result.run_dir / "index.html").as_uri()
    missing = coda_backup("view", "--output", str(output), "no-such-run")
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) <= 2  # usage line and one error line


def test_changes_failures_and_skips_are_listed(tab: tuple[Page, Recorder], backup: Backup) -> None:
    page, _ = tab
    headings = page.eval_on_selector_all("h3", "hs => hs.map(h => h.textContent)")
    expected = [
        f"{kind} {what} ({len(entries):,})"
        for kind in ("docs", "pages", "tables")
        for what, entries in backup.diff[kind].items()
        if entries
    ]
    assert sorted(headings) == sorted(expected)
    assert any("pages changed" in h for h in headings)
    summary = backup.result.summary()
    for kind in ("failures", "skips"):
        ids = page.eval_on_selector_all(
            f"table.{kind} tbody tr", "rows => rows.map(r => r.cells[3].textContent)"
        )
        assert sorted(ids) == sorted(str(r.get("object_id") or "") for r in summary[kind])
