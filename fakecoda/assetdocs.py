"""A doc full of images and attachments (issue #14): every way a backup meets an asset.

- Markdown and HTML exports with images (`![alt](…)`, `<img src>`, `srcset`) and links to
  attachments (`[name](…)`, `<a href>`); one image appears twice (stored once);
- a page cover image (`image.browserLink`);
- a table with an image column and an attachment column (URL strings in simple formats,
  `ImageObject` in rich);
- a large attachment, one that is missing (404), one that redirects to a host no backup
  may contact, one with a hostile file name and one whose links are already expired.
"""

from __future__ import annotations

from fakecoda.assets import AssetFile
from fakecoda.builder import TEXT, Builder, _workspace, fmt
from fakecoda.workspace import Workspace

#: A tiny valid PNG (1x1, transparent), the start of every fake image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _files(big: int) -> list[AssetFile]:
    return [
        AssetFile("logo", "logo.png", "image/png", PNG + b"logo"),
        AssetFile("chart", "chart.png", "image/png", PNG + b"chart" * 50),
        AssetFile("chart2x", "chart@2x.png", "image/png", PNG + b"chart2x" * 80),
        AssetFile("report", "Q1 report.pdf", "application/pdf", b"%PDF-1.4 fake report\n" * 40),
        AssetFile("cover", "cover.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 fake jpeg" * 30),
        AssetFile("photo1", "photo-1.png", "image/png", PNG + b"one" * 30),
        AssetFile("photo2", "photo-2.png", "image/png", PNG + b"two" * 30),
        AssetFile("sheet", "budget.xlsx", "application/octet-stream", b"PK fake xlsx" * 20),
        AssetFile("large", "archive.bin", "application/octet-stream", b"0123456789abcdef", big),
        AssetFile("gone", "gone.png", "image/png", behaviour="missing"),
        AssetFile("moved", "moved.png", "image/png", PNG, behaviour="redirect"),
        AssetFile("hostile", '..\\../CON<>:"|?*.png', "image/png", PNG + b"hostile"),
        AssetFile("stale", "stale.png", "image/png", PNG + b"stale", behaviour="expired"),
    ]


#: Keys whose fetch cannot succeed, and why (the backup's failures are exactly these).
UNFETCHABLE = {"gone": 404, "moved": 302, "stale": 403}


def _link(key: str) -> str:
    return f"coda-asset:{key}"


def add_asset_doc(b: Builder, *, large_bytes: int = 3 * 1024 * 1024) -> None:
    """The doc "Assets" and its files, into the builder's workspace."""
    for asset in _files(large_bytes):
        b.ws.assets[asset.key] = asset
    doc = b.doc("Assets", tag="doc.assets")
    md = (
        "# Gallery\n\n"
        f"![Logo]({_link('logo')}) and again ![Logo again]({_link('logo')})\n\n"
        f"![Chart]({_link('chart')})\n\n"
        f"See [the report]({_link('report')}) and [the archive]({_link('large')}).\n\n"
        f"![Missing]({_link('gone')}) ![Moved]({_link('moved')}) "
        f"![Odd]({_link('hostile')}) ![Stale]({_link('stale')})\n\n"
        "An ordinary link stays as it is: [Coda](https://coda.io/product).\n"
    )
    html = (
        "<h1>Gallery</h1>\n"
        f'<p><img src="{_link("logo")}" alt="Logo"> '
        f'<img src="{_link("chart")}" srcset="{_link("chart")} 1x, {_link("chart2x")} 2x" '
        'alt="Chart"></p>\n'
        f'<p>See <a href="{_link("report")}">the report</a> and '
        f'<a href="{_link("large")}">the archive</a>.</p>\n'
        f'<p><img src="{_link("gone")}"><img src="{_link("moved")}">'
        f'<img src="{_link("hostile")}"><img src="{_link("stale")}"></p>\n'
        '<p>An ordinary link stays: <a href="https://coda.io/product">Coda</a>.</p>\n'
    )
    gallery = b.page(doc, "Gallery", tag="page.gallery", markdown=md, html=html)
    gallery.image = {
        "browserLink": _link("cover"),
        "type": "image/jpeg",
        "width": 1200,
        "height": 400,
    }
    sub = b.page(
        doc,
        "Sub Gallery",
        gallery,
        tag="page.sub_gallery",
        markdown=f"# Sub\n\n![Logo]({_link('logo')})\n",
        html=f'<h1>Sub</h1>\n<p><img src="{_link("logo")}"></p>\n',
    )
    del sub
    files_page = b.page(doc, "Files", tag="page.files", markdown="# Files\n")
    b.table(
        doc,
        "Media",
        files_page,
        [("Name", TEXT), ("Picture", fmt("image")), ("File", fmt("attachments"))],
        [
            {"Name": "first", "Picture": _link("photo1"), "File": _link("sheet")},
            {"Name": "second", "Picture": _link("photo2"), "File": _link("report")},
        ],
        tag="table.media",
    )


def build_asset_workspace(seed: int = 0, *, large_bytes: int = 3 * 1024 * 1024) -> Workspace:
    """A small account: the "Assets" doc and one plain doc without any asset."""
    _, b = _workspace(seed, ("ws-AcmeCorp1", "Acme Corp"))
    add_asset_doc(b, large_bytes=large_bytes)
    plain = b.doc("Plain")
    b.page(plain, "Notes", markdown=b.prose("Notes"))
    return b.finish()
