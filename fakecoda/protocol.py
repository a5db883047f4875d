"""The fake API's HTTP values and its list paging, shared by every group of endpoints.

`Request`/`Response` are what `server.py` passes to a handler and gets back; `Target` is
what a path names; `ListingApi` pages a list the way Coda does (NOTES §1): a clamped
`limit`, and a `pageToken` that carries the listing's parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakecoda import render, tokens

if TYPE_CHECKING:
    from fakecoda.server import FakeConfig
    from fakecoda.workspace import Doc, Page, Table, Workspace

JSON = "application/json; charset=utf-8"
DEFAULT_LIMIT = 25


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    fault: str | None = None  # the injected fault kind that shaped this response
    delay: float = 0.0  # faults "timeout"/"slow_body": seconds to hold or spread the answer


@dataclass
class Request:
    method: str
    path: str  # without the query, e.g. /apis/v1/docs/AbCDeFGH/pages
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names: only what the API looks at
    body: bytes = b""


@dataclass
class Target:
    """The objects a path names, resolved (404/410/403 raised on the way)."""

    href: str
    doc: Doc = None  # type: ignore[assignment]
    page: Page = None  # type: ignore[assignment]
    table: Table = None  # type: ignore[assignment]
    key: str = ""  # the last id: export request, column or row


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def error(status: int, message: str | None = None) -> Response:
    return Response(status, dumps(render.error_body(status, message)))


class ApiError(Exception):
    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message)
        self.response = error(status, message)


def bool_param(query: dict[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"Invalid value for {name}: {raw!r}")


def limit_param(query: dict[str, str], clamp: int) -> int:
    raw = query.get("limit")
    if raw is None:
        return min(DEFAULT_LIMIT, clamp)
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid value for limit: {raw!r}") from None
    if value < 1:
        raise ApiError(400, "limit must be at least 1")
    return min(value, clamp)  # Coda clamps silently (NOTES §1)


@dataclass
class ListPage:
    offset: int
    limit: int
    params: dict[str, Any]


class ListingApi:
    """Paging of every list endpoint (the workspace, config and base URL are the API's)."""

    ws: Workspace
    config: FakeConfig
    base: str

    @staticmethod
    def _page_of_list(
        req: Request, kind: str, scope: list[str], clamp: int, params: Callable[[], Any]
    ) -> ListPage:
        """Offset, limit and parameters: from the token alone when one is sent (NOTES §1)."""
        if "pageToken" in req.query:
            data = tokens.decode(req.query["pageToken"], kind)
            if data.get("s") != scope:
                raise tokens.TokenError(tokens.INVALID)
            return ListPage(int(data["o"]), int(data["l"]), data.get("p") or {})
        return ListPage(0, limit_param(req.query, clamp), params())

    def _envelope(
        self,
        items: bytes,
        t: Target,
        *,
        next_token: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Response:
        tail: dict[str, Any] = {"href": t.href}
        if next_token is not None:
            path = t.href[len(self.base) :].partition("?")[0]
            tail["nextPageToken"] = next_token
            tail["nextPageLink"] = f"{self.base}{path}?pageToken={next_token}"
        if extra:
            tail |= extra
        return Response(200, b'{"items":' + items + b"," + dumps(tail)[1:])

    def _paged(
        self, items: list[Any], page: ListPage, t: Target, *, kind: str, scope: list[str]
    ) -> Response:
        chunk = items[page.offset : page.offset + page.limit]
        token = None
        if page.offset + page.limit < len(items):
            token = tokens.encode(
                kind, s=scope, o=page.offset + page.limit, l=page.limit, p=page.params
            )
        return self._envelope(dumps(chunk), t, next_token=token)
