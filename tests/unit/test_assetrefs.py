"""Which URLs are assets, and the target's check of the chunks it is sent (pure parts)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from tap_coda import assetrefs
from target_files.assets import AssetStage
from target_files.fsutil import Perms

HOSTS = ("codahosted.io", "127.0.0.1:8123")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://codahosted.io/docs/d/blobs/bl-1/x.png", True),
        ("https://img.codahosted.io/x.png", True),  # a subdomain
        ("http://codahosted.io/x.png", False),  # https only off loopback
        ("https://codahosted.io.evil.example/x.png", False),
        ("https://evilcodahosted.io/x.png", False),
        ("https://codahosted.io:8443/x.png", False),  # another port
        ("http://127.0.0.1:8123/blobs/a/b.png", True),  # loopback, named port
        ("http://127.0.0.1:8124/blobs/a/b.png", False),
        ("file:///etc/passwd", False),
        ("https://coda.io/d/_dDoc", False),  # a browser link is a link, not a file
    ],
)
def test_refusal(url: str, allowed: bool) -> None:
    assert (assetrefs.refusal(url, HOSTS) is None) is allowed


def test_links_in_markdown_and_html() -> None:
    md = '![a](https://codahosted.io/1.png) [b](<https://codahosted.io/2.pdf> "t") [c](x.md)'
    assert assetrefs.in_markdown(md) == [
        "https://codahosted.io/1.png",
        "https://codahosted.io/2.pdf",
        "x.md",
    ]
    html = (
        '<img src="https://codahosted.io/1.png?a=1&amp;b=2" '
        "srcset='https://codahosted.io/1.png 1x, https://codahosted.io/2.png 2x'>"
        '<a HREF="https://codahosted.io/3.pdf">f</a>'
    )
    assert assetrefs.in_html(html) == [
        "https://codahosted.io/1.png?a=1&b=2",
        "https://codahosted.io/1.png",
        "https://codahosted.io/2.png",
        "https://codahosted.io/3.pdf",
    ]


def test_assets_among_keeps_each_file_once_by_its_key() -> None:
    urls = [
        "https://codahosted.io/1.png?sig=a",
        "https://codahosted.io/1.png?sig=b",  # the same file, another signature
        "https://example.com/2.png",
        "https://codahosted.io/3.png#frag",
    ]
    assert assetrefs.assets_among(urls, HOSTS) == [urls[0], urls[3]]
    assert assetrefs.key_of(urls[1]) == "https://codahosted.io/1.png"


def test_urls_in_row_values_at_any_depth() -> None:
    value = {"a": [{"@type": "ImageObject", "url": "https://codahosted.io/1.png"}], "b": 3}
    assert list(assetrefs.in_value(value)) == ["https://codahosted.io/1.png"]
    assert list(assetrefs.in_value(["plain", "https://codahosted.io/2.pdf"])) == [
        "https://codahosted.io/2.pdf"
    ]


def _records(data: bytes, chunk: int = 4) -> list[dict[str, object]]:
    base = {"doc_id": "d", "key": "https://codahosted.io/f.bin"}
    out: list[dict[str, object]] = [
        {**base, "kind": "chunk", "seq": i, "data": base64.b64encode(data[o : o + chunk]).decode()}
        for i, o in enumerate(range(0, len(data), chunk))
    ]
    closing = {"kind": "file", "seq": len(out), "sha256": hashlib.sha256(data).hexdigest()}
    return [*out, {**base, **closing, "size": len(data)}]


def _stage(tmp_path: Path, records: list[dict[str, object]]) -> AssetStage:
    stage = AssetStage(tmp_path / "assets", Perms(private=False, fsync=False))
    for record in records:
        stage.add(dict(record))
    return stage


def test_chunks_in_order_make_the_file(tmp_path: Path) -> None:
    data = b"0123456789abcdefXYZ"
    (staged,) = _stage(tmp_path, _records(data)).of_doc("d")
    assert staged.problem is None and staged.path.read_bytes() == data


def test_out_of_order_or_damaged_chunks_are_a_problem(tmp_path: Path) -> None:
    data = b"0123456789abcdefXYZ"
    records = _records(data)
    swapped = [records[1], records[0], *records[2:]]
    (staged,) = _stage(tmp_path / "a", swapped).of_doc("d")
    assert staged.problem and "came where 0 was due" in staged.problem
    bad = [*records[:-1], {**records[-1], "sha256": "0" * 64}]
    (staged,) = _stage(tmp_path / "b", bad).of_doc("d")
    assert staged.problem and "do not match" in staged.problem
