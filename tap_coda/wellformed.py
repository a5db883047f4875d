"""One object failing never stops a listing: what it can raise, and how streams keep only the
API objects they can rely on (tap_coda.shapes), each other one a failure record of its own."""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_coda import shapes
from tap_coda.client import CodaClientError
from tap_coda.errors import CodaRequestError

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: What one object failing can raise; anything else (a 401, a bug) stops the run.
OBJECT_ERRORS = (CodaClientError, CodaRequestError, RetriableAPIError, requests.RequestException)
#: The failure record of an object of each kind that is not well formed.
FAILURE_TYPES = {"doc": "doc", "page": "page_content", "table": "table"}


class WellFormed:
    """A stream mixin: `guarded` and `well_formed` wrap listings (the stream has `fail`)."""

    def fail(self, context: Context, exc: BaseException, **fields: t.Any) -> None: ...

    def guarded(
        self, context: Context, records: t.Iterable[dict[str, t.Any]], **fields: t.Any
    ) -> t.Iterator[dict[str, t.Any]]:
        """Yield from a listing; a failure part-way is recorded and ends the listing."""
        try:
            yield from records
        except OBJECT_ERRORS as exc:
            self.fail(context, exc, **fields)

    def well_formed(
        self, context: Context | None, objects: t.Iterable[t.Any], kind: str
    ) -> t.Iterator[dict[str, t.Any]]:
        for obj in objects:
            why = shapes.problem(kind, obj)
            if why is None:
                yield obj
                continue
            ident = obj.get("id") if isinstance(obj, dict) else None
            name = obj.get("name") if isinstance(obj, dict) else None
            ident = ident if isinstance(ident, str) else None
            self.fail(
                {"doc_id": ident} if kind == "doc" else dict(context or {}),
                shapes.ShapeError(why),
                object_type=FAILURE_TYPES[kind],
                object_id=ident,
                name=name if isinstance(name, str) else None,
                **({"format": None} if kind == "page" else {}),
            )
