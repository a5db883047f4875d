"""Which files a backup downloads: the asset URLs in exports, covers and row values (pure).

An asset is a URL on one of the `asset_hosts` (Coda serves images and attachments from
`codahosted.io` and its subdomains; Coda's own Packs guide matches hosted images with
`^https://(?:[^/]*\\.)?codahosted.io/`). Every other link (a web page, a doc's browser
link) stays a link. Found here:

- Markdown: `![alt](url)` and `[text](url)` targets;
- HTML: `src`, `href` and every URL of a `srcset`;
- a page's cover: `image.browserLink`;
- row values: any string that is an asset URL, in any nesting (an `ImageObject`'s `url` in
  `rich`, the URL strings of `simple`/`simpleWithArrays`).

An asset's identity is its URL without the query: signed links to one file differ in their
signature, not their path.
"""

from __future__ import annotations

import html
import re
import typing as t
from urllib.parse import urlsplit

from tap_coda.egress import origin_of

#: Where Coda keeps uploaded images and attachments (docs: Packs, "Working with images").
DEFAULT_ASSET_HOSTS = ("codahosted.io",)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

_MD_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_ATTR = re.compile(r"""\b(src|href|srcset)\s*=\s*("([^"]*)"|'([^']*)')""", re.IGNORECASE)


def key_of(url: str) -> str:
    """An asset's identity: its URL without query or fragment."""
    return url.split("#", 1)[0].split("?", 1)[0]


def refusal(url: str, hosts: t.Iterable[str]) -> str | None:
    """Why `url` is not an asset host's to fetch, in one line; None when it is."""
    origin = origin_of(url)
    shown = key_of(url)[:200]
    if origin is None or origin.scheme not in _DEFAULT_PORTS:
        return f"{shown!r} is not an http(s) URL with a host"
    for entry in hosts:
        host, _, port = entry.strip().lower().rstrip(".").partition(":")
        wanted = int(port) if port.isdigit() else _DEFAULT_PORTS.get(origin.scheme)
        if origin.port == wanted and (origin.host == host or origin.host.endswith("." + host)):
            if origin.scheme == "https" or origin.host in _LOOPBACK:
                return None
            return f"{shown!r}: assets leave only over https"
    return f"{shown!r}: host {origin.host}:{origin.port} is not in asset_hosts"


def in_markdown(text: str) -> list[str]:
    return [m.group(1) for m in _MD_TARGET.finditer(text)]


def in_html(text: str) -> list[str]:
    found = []
    for m in _HTML_ATTR.finditer(text):
        value = html.unescape(m.group(3) if m.group(3) is not None else m.group(4))
        if m.group(1).lower() == "srcset":
            found += [part.strip().split()[0] for part in value.split(",") if part.strip()]
        else:
            found.append(value.strip())
    return found


def in_export(text: str, output_format: str) -> list[str]:
    return in_html(text) if output_format == "html" else in_markdown(text)


def in_value(value: t.Any) -> t.Iterator[str]:
    """Every string of a row value (nested lists and objects walked) that looks like a URL."""
    if isinstance(value, str):
        if "://" in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from in_value(item)
    elif isinstance(value, list):
        for item in value:
            yield from in_value(item)


def in_cover(page: t.Mapping[str, t.Any]) -> list[str]:
    image = page.get("image")
    link = image.get("browserLink") if isinstance(image, dict) else None
    return [link] if isinstance(link, str) else []


def assets_among(urls: t.Iterable[str], hosts: t.Iterable[str]) -> list[str]:
    """The asset URLs among `urls`, in order, each once (by `key_of`)."""
    hosts, seen, out = tuple(hosts), set(), []
    for url in urls:
        key = key_of(url)
        if key not in seen and refusal(url, hosts) is None:
            seen.add(key)
            out.append(url)
    return out


def file_name(url: str) -> str:
    """The last path segment of an asset URL (percent-decoded), or `asset`."""
    from urllib.parse import unquote

    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "asset"
