"""Where the tap's requests may go, and what their paths hold: pure decisions, no I/O.

- Every id placed in a URL path is one percent-encoded segment (`segment`): an id such as
  `../../tmp/x` stays inside its own segment and can never address another endpoint; an
  id of dots only is refused (its object fails).
- The token goes only to URLs under the configured API base (`within_base`).
- A link Coda hands out (an export's `downloadLink`, an asset's URL) is followed only to an
  allowed host (`refusal`): a `download_hosts` entry (the host or any subdomain of it; an
  entry with `:port` names exactly that port), or the API's own origin (where the token
  already goes; a local fake serves both). Plain `http` only to the API's own origin, so
  production links are `https`. Anything else (`file:`, another host or port) is refused
  with a one-line reason, never fetched.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote, urlsplit

from tap_coda.errors import CodaRequestError

__all__ = [
    "DEFAULT_DOWNLOAD_HOSTS",
    "Origin",
    "UnsafeIdError",
    "origin_of",
    "refusal",
    "segment",
    "within_base",
]

#: Coda serves export downloads from its web app (`https://coda.io/blobs/…`, NOTES.md §4).
DEFAULT_DOWNLOAD_HOSTS = ("coda.io", "codahosted.io")

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(t.NamedTuple):
    scheme: str
    host: str
    port: int | None


class UnsafeIdError(CodaRequestError):
    """An id that cannot be one path segment: its object fails, nothing is sent."""


def segment(value: object) -> str:
    """`value` as one URL path segment, everything but unreserved characters encoded. An id
    of dots only (`.`, `..`, or empty) is refused: URL handling resolves those whatever
    their encoding (requests turns `%2E` back into `.`)."""
    text = str(value)
    if text.strip(".") == "":
        raise UnsafeIdError(f"refused the id {text!r}: it cannot be a URL path segment")
    return quote(text, safe="")


def origin_of(url: str) -> Origin | None:
    """Scheme, lower-case host and port (the scheme's default filled in); None when the URL
    has no host or a port that is not a number."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return None
    return Origin(scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme))


def within_base(url: str, base: str) -> bool:
    """True when `url` is the API base itself or a path under it, at the same origin."""
    here, there = origin_of(url), origin_of(base)
    if here is None or here != there:
        return False
    path, base_path = urlsplit(url).path, urlsplit(base).path.rstrip("/")
    return path == base_path or path.startswith(base_path + "/")


def _host_allowed(origin: Origin, entry: str) -> bool:
    host, _, port = entry.strip().lower().rstrip(".").partition(":")
    if port:
        if not port.isdigit() or int(port) != origin.port:
            return False
    elif origin.port != _DEFAULT_PORTS.get(origin.scheme):
        return False
    return origin.host == host or origin.host.endswith("." + host)


def refusal(url: str, *, allowed_hosts: t.Iterable[str], api_url: str) -> str | None:
    """Why `url` must not be fetched, in one line; None when it may be."""
    origin = origin_of(url)
    shown = url.split("?", 1)[0][:200]  # signed links carry secrets in their query
    if origin is None or origin.scheme not in _DEFAULT_PORTS:
        return f"refused to fetch {shown!r}: not an http(s) URL with a host"
    if origin == origin_of(api_url):
        return None
    if not any(_host_allowed(origin, entry) for entry in allowed_hosts):
        where = f"{origin.host}:{origin.port}"
        return f"refused to fetch {shown!r}: host {where} is not in download_hosts"
    if origin.scheme != "https":
        return f"refused to fetch {shown!r}: only https leaves for hosts other than the API's"
    return None
