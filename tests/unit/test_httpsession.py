"""tap_coda.httpsession: what requests makes of the environment, read once per origin,
is what requests itself answers for every request."""

from __future__ import annotations

import pytest
import requests

from tap_coda import httpsession

URLS = (
    "https://coda.io/apis/v1/docs?limit=100",
    "https://coda.io/apis/v1/docs/d1/tables/t1/rows",
    "http://127.0.0.1:8080/apis/v1/whoami",
    "http://127.0.0.1:9090/blob/1",
    "https://codahosted.io/docs/x/blobs/bl-1/image.png",
    "https://internal.example:8443/x",
)


@pytest.mark.parametrize("trust_env", [True, False])
def test_merged_settings_are_requests_own(monkeypatch: pytest.MonkeyPatch, trust_env: bool) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3129")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1:8080,internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    ours, theirs = httpsession.Session(), requests.Session()
    ours.trust_env = theirs.trust_env = trust_env
    for _ in range(2):  # the second answer comes from what the first kept
        for url in URLS:
            for args in (({}, None, None, None), ({"https": "http://given:1"}, True, False, "c")):
                assert ours.merge_environment_settings(url, *args) == (
                    theirs.merge_environment_settings(url, *args)
                )


def test_a_caller_changing_its_answer_changes_no_later_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = httpsession.Session()
    first = session.merge_environment_settings("https://coda.io/x", {}, None, None, None)
    first["proxies"]["https"] = "http://changed:1"
    again = session.merge_environment_settings("https://coda.io/y", {}, None, None, None)
    assert again["proxies"]["https"] == "http://proxy.example:3128"


@pytest.mark.parametrize("trust_env", [True, False])
def test_proxies_send_resolves_are_requests_own(
    monkeypatch: pytest.MonkeyPatch, trust_env: bool
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1:8080,internal.example")
    session = httpsession.Session()
    session.trust_env = trust_env
    seen: list[dict[str, str]] = []
    monkeypatch.setattr(
        requests.Session, "send", lambda self, request, **kwargs: seen.append(kwargs["proxies"])
    )
    for _ in range(2):
        for url in URLS:
            request = requests.Request("GET", url).prepare()
            session.send(request, timeout=1)
            assert seen[-1] == requests.utils.resolve_proxies(request, {}, trust_env)
    session.send(requests.Request("GET", URLS[0]).prepare(), proxies={"https": "http://given:1"})
    assert seen[-1] == {"https": "http://given:1"}
