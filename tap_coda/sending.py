"""Around each try of an API request: where it may go, when it may go, and what its errors
may say.

`CodaStream.request_decorator` wraps every try (listed or ad hoc) in `guarded`, and
singer-sdk's backoff wraps the result: each retry is checked and paced again. Each try's
rate slot is anchored at its answer (tap_coda.slots says why).
"""

from __future__ import annotations

import typing as t

from tap_coda import egress
from tap_coda.answers import CodaAuthError
from tap_coda.errors import CodaRequestError
from tap_coda.pacing import is_export_status, rate_class_of
from tap_coda.reach import CodaUnreachableError, send_while_reachable
from tap_coda.redaction import redact

if t.TYPE_CHECKING:
    import logging

    import requests
    from singer_sdk.helpers.types import Context, RequestFunc

    from tap_coda.pacing import Slot
    from tap_coda.services import Services


def guarded(
    func: RequestFunc, *, services: Services, url_base: str, logger: logging.Logger
) -> RequestFunc:
    """`func` (one try), sent only inside `url_base`, paced by its Coda rate class, given a
    few quick tries while the API was never reached, and never raising the token."""

    def send(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
        if not egress.within_base(prepared.url or "", url_base):
            msg = f"refused to send the token outside api_url: {prepared.url!r}"
            raise CodaRequestError(msg)
        method, url = prepared.method or "GET", prepared.url or ""
        slot = services.rate_limits.acquire(
            rate_class_of(method, url), f"{method} {url}", priority=is_export_status(method, url)
        )
        if slot is not None:
            prepared = anchored(prepared, slot)
        try:
            return send_while_reachable(
                lambda: func(prepared, context),
                url=prepared.url or url_base,
                reached=lambda: services.api_reached,
                logger=logger,
            )
        except (CodaAuthError, CodaUnreachableError):
            raise
        except Exception as exc:
            if redact(str(exc)) == str(exc):
                raise
            # The token itself is in the error (e.g. a header http.client refuses): no
            # request can ever succeed with it, and the message must not show it.
            msg = f"the API token cannot be sent ({type(exc).__name__}: {redact(str(exc))})"
            raise CodaAuthError(msg) from None
        finally:
            if slot is not None:
                slot.answered()  # no answer (an error): anchored now, later than any arrival

    return send


def anchored(prepared: requests.PreparedRequest, slot: Slot) -> requests.PreparedRequest:
    """A copy of this try's request whose slot is anchored when the answer's headers are
    in (a response hook; the body may take longer). The original keeps its own hooks, so
    a retry does not stack them."""
    copy = prepared.copy()
    copy.hooks = {**prepared.hooks, "response": [*prepared.hooks.get("response", []), slot.hook]}
    return copy
