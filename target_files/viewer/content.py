"""A backed-up page as safe HTML for its view: the HTML export when there is one, else the
Markdown export rendered by cmark-gfm, then sanitized by nh3 (Ammonia): no script, no
event handler, no style, no form, no frame survives.

Images and links are rebased from the page file's folder to the view's: a relative path
that names a file of the run stays (rebased), a remote image the run holds a copy of (the
doc's manifest `assets`, by URL) points at that copy, and any other image loses its `src`
(its alt text stays), so a view never asks the network for anything.
"""

from __future__ import annotations

import posixpath
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nh3

from target_files.viewer import gfm
from target_files.viewer.markup import url as view_url

if t.TYPE_CHECKING:
    from collections.abc import Container, Mapping

#: How much of a page file a page view shows; the file itself is linked.
SHOWN_BYTES = 20_000
_GFM = ["table", "strikethrough"]
_SCHEMES = {"http", "https", "mailto", "data"}
#: Tags removed with everything they hold (not just unwrapped to their text).
_DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "svg"}


@dataclass(frozen=True)
class Source:
    """Where a page's content is read from and where its view goes."""

    rel: str  # the page file, relative to the run
    fmt: str  # "html" or "markdown"
    view_rel: str  # the view file, relative to the run


@dataclass(frozen=True)
class Rebase:
    """What the sanitizer needs to resolve a URL: the run's files and held assets."""

    files: Container[str]
    assets: Mapping[str, str]  # remote URL → path in the run


def pick(files: Mapping[str, t.Any]) -> tuple[str, str] | None:
    """(format, path) of the page file to show: HTML first."""
    for fmt in ("html", "markdown"):
        entry = files.get(fmt)
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            return fmt, entry["path"]
    return None


def render(root: Path, source: Source, rebase: Rebase) -> tuple[str, int | None]:
    """The page's content as sanitized HTML, and the file's size when only its first
    SHOWN_BYTES are shown (OSError when the file cannot be read). A page's export holds
    every row of the tables on it; those have views of their own, and a page view that
    stays small keeps the index's cost in a backup flat."""
    with (root / source.rel).open("rb") as handle:
        data = handle.read(SHOWN_BYTES + 1)
        size = None
        if len(data) > SHOWN_BYTES:
            size = handle.seek(0, 2)
            data = data[: data.rfind(b"\n", 0, SHOWN_BYTES) + 1 or SHOWN_BYTES]
    text = data.decode("utf-8", errors="replace")
    raw = text if source.fmt == "html" else markdown_html(text)
    return sanitize(raw, source, rebase), size


def markdown_html(text: str) -> str:
    """GitHub Flavored Markdown (cmark-gfm, GitHub's own C parser: tables, strikethrough)
    in its safe mode: raw HTML in the Markdown is left out; `gfm` frees what it allocates."""
    return gfm.to_html(text, _GFM)


def sanitize(raw: str, source: Source, rebase: Rebase) -> str:
    tags = set(nh3.ALLOWED_TAGS) - _DROP_WITH_CONTENT

    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr == "src" and tag == "img":
            return _image(value, source, rebase)
        if attr == "href":
            return _link(value, source, rebase)
        return value

    return nh3.clean(
        raw,
        tags=tags,
        clean_content_tags=_DROP_WITH_CONTENT,
        url_schemes=_SCHEMES,
        attribute_filter=keep,
        link_rel="noopener noreferrer",
    )


def _local(url: str, source: Source, files: Container[str]) -> str | None:
    """The run path a relative URL of the page file names, if the run holds that file."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    rel = posixpath.normpath(posixpath.join(posixpath.dirname(source.rel), unquote(parts.path)))
    if rel.startswith("../") or rel in ("..", ".") or rel not in files:
        return None
    return rel


def _image(url: str, source: Source, rebase: Rebase) -> str | None:
    if url.startswith("data:image/"):
        return url
    held = _held(url, rebase)
    if held:
        return view_url(source.view_rel, held)
    rel = _local(url, source, rebase.files)
    return view_url(source.view_rel, rel) if rel else None


def _link(url: str, source: Source, rebase: Rebase) -> str | None:
    if url.startswith(("http://", "https://", "mailto:")) or urlsplit(url).scheme.lower() in (
        "http",
        "https",
        "mailto",
    ):
        held = _held(url, rebase)  # an attachment the run holds a copy of
        return view_url(source.view_rel, held) if held else url
    if url.startswith("#"):
        return url
    rel = _local(url, source, rebase.files)
    return view_url(source.view_rel, rel) if rel else None


def _held(url: str, rebase: Rebase) -> str | None:
    held = rebase.assets.get(url)
    return held if held is not None and held in rebase.files else None
