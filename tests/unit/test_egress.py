"""tap_coda.egress: ids stay one path segment; links go only to allowed hosts."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import requests

from tap_coda import egress

API = "https://coda.io/apis/v1"
HOSTS = egress.DEFAULT_DOWNLOAD_HOSTS


@pytest.mark.parametrize(
    "value", ["../../../../tmp/x", "../", "a/b?c#d", "100%", "é ü", "grid-abc_1.x~", "%2E%2E"]
)
def test_an_id_is_one_segment_that_decodes_back_and_survives_url_normalising(value: str) -> None:
    seg = egress.segment(value)
    assert "/" not in seg and "?" not in seg and "#" not in seg
    assert unquote(seg) == value
    prepared = requests.Request("GET", f"{API}/docs/{seg}/pages").prepare()
    assert prepared.path_url == f"/apis/v1/docs/{seg}/pages"


@pytest.mark.parametrize("value", ["..", ".", "", "..."])
def test_an_id_of_dots_only_is_refused(value: str) -> None:
    with pytest.raises(egress.UnsafeIdError, match="cannot be a URL path segment"):
        egress.segment(value)


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        (f"{API}/docs", True),
        (API, True),
        (f"{API}/docs/x/pages?limit=5", True),
        ("https://coda.io/apis/v10/docs", False),
        ("https://coda.io/blobs/x", False),
        ("http://coda.io/apis/v1/docs", False),
        ("https://coda.io:8443/apis/v1/docs", False),
        ("https://evil.example/apis/v1/docs", False),
    ],
)
def test_the_token_goes_only_under_the_api_base(url: str, *, inside: bool) -> None:
    assert egress.within_base(url, API) is inside


@pytest.mark.parametrize(
    "url",
    [
        "https://coda.io/blobs/DOC_EXPORT_RENDERING/p/d?X-Amz-Expires=300",
        "https://eu.codahosted.io/x",
        "https://CODA.IO./blobs/x",
    ],
)
def test_coda_hosts_over_https_are_allowed(url: str) -> None:
    assert egress.refusal(url, allowed_hosts=HOSTS, api_url=API) is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "not an http(s) URL"),
        ("http://coda.io/blobs/x", "only https"),
        ("https://coda.io.evil.example/x", "not in download_hosts"),
        ("https://notcoda.io/x", "not in download_hosts"),
        ("https://coda.io:8443/x", "coda.io:8443 is not in download_hosts"),
        ("https:///nohost", "not an http(s) URL"),
        ("https://coda.io:port/x", "not an http(s) URL"),
        ("gopher://coda.io/x", "not an http(s) URL"),
    ],
)
def test_anything_else_is_refused_with_a_reason(url: str, says: str) -> None:
    reason = egress.refusal(url, allowed_hosts=HOSTS, api_url=API)
    assert reason is not None and says in reason


def test_the_apis_own_origin_is_allowed_and_only_its_port() -> None:
    local = "http://127.0.0.1:8765/apis/v1"
    assert egress.refusal("http://127.0.0.1:8765/blobs/a", allowed_hosts=(), api_url=local) is None
    other = egress.refusal("http://127.0.0.1:8766/blobs/a", allowed_hosts=(), api_url=local)
    assert other is not None and "127.0.0.1:8766 is not in download_hosts" in other


def test_a_host_with_a_port_names_exactly_that_port() -> None:
    hosts = ("files.example:8443",)
    assert egress.refusal("https://files.example:8443/a", allowed_hosts=hosts, api_url=API) is None
    assert egress.refusal("https://files.example/a", allowed_hosts=hosts, api_url=API)


def test_a_refusal_never_shows_the_links_query() -> None:
    reason = egress.refusal("https://evil.example/a?sig=SECRET", allowed_hosts=HOSTS, api_url=API)
    assert reason is not None and "SECRET" not in reason
