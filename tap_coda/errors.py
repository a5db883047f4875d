"""Failures the tap detects itself, apart from HTTP errors: one object fails, the run goes on."""

from __future__ import annotations


class CodaRequestError(Exception):
    """A failure the tap detects itself (a failed export, a dead link, a refused link, an
    answer over its cap); not an HTTP error, and never retried."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
