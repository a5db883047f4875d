"""Secrets never reach a log line, a record or an exception message.

Request errors can quote the token (http.client puts a header it refuses, token included,
in its ValueError), so redaction cannot be left to each call site: once registered, a
secret is replaced by `[redacted]` in every log record and uncaught-exception report.
"""

from __future__ import annotations

import logging
import sys
import traceback
import typing as t

REDACTED = "[redacted]"

_SECRETS: set[str] = set()


#: Shorter than any real token (Coda's are 36 characters), and long enough that masking
#: it in every log line never eats ordinary text: a 1-character token masked every
#: occurrence of that character.
MIN_TOKEN_CHARS = 12


def token_problem(token: str) -> str | None:
    """Why `token` (already stripped) cannot be a Coda API token, or None. Said before it
    is sent anywhere or registered for redaction, so the message never quotes it."""
    if len(token) < MIN_TOKEN_CHARS:
        return (
            f"the API token is {len(token)} character{'s' if len(token) != 1 else ''} long; "
            f"Coda's are 36"
        )
    return None  # a line break inside is refused as it is sent (sending.py), redacted


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `[redacted]`."""
    for secret in sorted(_SECRETS, key=len, reverse=True):  # whole forms before pieces
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class _RedactingFilter(logging.Filter):
    """Rewrites a log record whose message or traceback would show a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SECRETS:
            return True
        message = record.getMessage()
        trace = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
        if redact(message) != message or redact(trace) != trace:
            record.msg = redact(message) + (f"\n{redact(trace.rstrip())}" if trace else "")
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def register_secret(secret: str) -> None:
    """Remember a secret: log handlers and uncaught-exception printers redact it from now on."""
    if not secret or secret in _SECRETS:
        return
    # Also as error messages quote it: repr'd (str or bytes), and each line of it.
    variants = {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}
    variants |= {part for part in secret.split() if len(part) >= 8}
    _SECRETS.update(v for v in variants if v)
    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        handlers += getattr(logger, "handlers", [])
    for handler in handlers:
        if not any(isinstance(f, _RedactingFilter) for f in handler.filters):
            handler.addFilter(_RedactingFilter())
    if not getattr(sys.excepthook, "redacting", False):
        previous = sys.excepthook

        def excepthook(exc_type: t.Any, exc: t.Any, tb: t.Any) -> None:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            if redact(text) == text:
                previous(exc_type, exc, tb)
                return
            sys.stderr.write(redact(text))

        excepthook.redacting = True  # type: ignore[attr-defined]
        sys.excepthook = excepthook
