"""An API that cannot be reached at all: a few quick tries, then one line, not 48 s of backoff.

Connection refused or a host name that does not resolve, before any answer came, means a
wrong `api_url` or no network: waiting minutes cannot help. Once the API has answered,
the same errors are a blip and go through the normal backoff (`CodaStream`).
"""

from __future__ import annotations

import socket
import time
import typing as t
from urllib.parse import urlparse

import requests
import urllib3.exceptions

if t.TYPE_CHECKING:
    import logging

#: Waits between the quick tries (a few seconds in all: a service starting up is let in).
UNREACHABLE_WAITS_SECONDS = (0.5, 1.0, 2.0)


class CodaUnreachableError(Exception):
    """The API was never reached: refused connection or unresolvable host."""


def _causes(exc: BaseException) -> t.Iterator[BaseException]:
    """The exception and everything it wraps (causes, contexts, urllib3 reasons, args)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        todo += [e for e in linked if isinstance(e, BaseException)]


def unreachable_reason(exc: BaseException) -> str | None:
    """`connection refused` / `name does not resolve`, or None for any other error."""
    for cause in _causes(exc):
        if isinstance(cause, (urllib3.exceptions.NameResolutionError, socket.gaierror)):
            return "name does not resolve"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
    return None


def where(url: str) -> str:
    """`host:port` (or `host`) of a URL, as the one line names it: never a path or a query."""
    parts = urlparse(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


def send_while_reachable(
    send: t.Callable[[], requests.Response],
    *,
    url: str,
    reached: t.Callable[[], bool],
    logger: logging.Logger,
) -> requests.Response:
    """`send()`; until the API first answered (`reached`), a refused connection or an
    unresolvable host gets a few quick tries and then raises `CodaUnreachableError`."""
    for wait in (*UNREACHABLE_WAITS_SECONDS, None):
        try:
            return send()
        except requests.exceptions.ConnectionError as exc:
            why = None if reached() else unreachable_reason(exc)
            if why is None:
                raise
            if wait is None:
                msg = f"cannot reach {where(url)}: {why}"
                raise CodaUnreachableError(msg) from None
            logger.info("Cannot reach the API (%s); trying again in %g s", why, wait)
            time.sleep(wait)
    raise AssertionError  # the loop returns or raises
