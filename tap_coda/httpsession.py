"""The tap's HTTP sessions: requests' own, reading the environment's proxy settings once.

For every request, requests scans the whole environment (`HTTPS_PROXY`, `NO_PROXY`, CA
bundles, …) several times over: about a third of a millisecond, which over a backup's
thousand requests was as much CPU as decoding every rows page. A run's environment does
not change, and what requests makes of it depends only on the request's origin (the
proxy for its scheme, whether `NO_PROXY` names its host and port) and the arguments, so
each answer is kept for the session's life. Proxies, `NO_PROXY`, `REQUESTS_CA_BUNDLE` and
`trust_env` keep meaning exactly what they mean to requests.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import requests
from requests.utils import resolve_proxies

_Key = tuple[t.Any, ...]
if t.TYPE_CHECKING:
    from requests.sessions import _Settings


def _frozen(mapping: t.Mapping[str, t.Any] | None) -> tuple[tuple[str, t.Any], ...]:
    return tuple(sorted((mapping or {}).items()))


class Session(requests.Session):
    """`requests.Session`, with `merge_environment_settings` (what `request` asks) and the
    proxies `send` resolves (what singer-sdk's streams, which call `send`, get) answered
    once per origin and arguments."""

    def __init__(self) -> None:
        super().__init__()
        self._merged: dict[_Key, _Settings] = {}
        self._proxies: dict[_Key, dict[str, str]] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        if "proxies" not in kwargs:
            parts = urlsplit(request.url or "")
            key = (parts.scheme, parts.netloc, self.trust_env, _frozen(self.proxies))
            found = self._proxies.get(key)
            if found is None:
                found = resolve_proxies(request, dict(self.proxies), self.trust_env)
                self._proxies[key] = found
            kwargs["proxies"] = dict(found)
        return super().send(request, **kwargs)

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: t.MutableMapping[str, str] | None,
        stream: bool | None,
        verify: t.Any,
        cert: t.Any,
    ) -> _Settings:
        parts = urlsplit(url.decode() if isinstance(url, bytes) else url or "")
        key = (parts.scheme, parts.netloc, _frozen(proxies), stream, verify, cert, self.trust_env,
               _frozen(self.proxies), self.stream, self.verify, self.cert)  # fmt: skip
        merged = self._merged.get(key)
        if merged is None:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._merged[key] = merged
        # a copy each time: a caller may change what it is given
        return {**merged, "proxies": dict(merged["proxies"])}
