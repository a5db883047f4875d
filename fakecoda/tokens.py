"""Opaque page and sync tokens (NOTES §1, §7).

A token carries every parameter of the listing it continues, so whatever else a client
sends beside `pageToken` is ignored — as Coda does. Tokens are URL-safe base64 of compact
JSON with a short checksum, so a mangled or foreign token answers 400 "Invalid pageToken."
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

INVALID = "Invalid pageToken."
_SALT = b"fakecoda"


class TokenError(ValueError):
    """The token is not one this fake minted for this listing."""


def encode(kind: str, **fields: Any) -> str:
    payload = json.dumps({"k": kind, **fields}, separators=(",", ":"), sort_keys=True).encode()
    check = hashlib.blake2s(payload, key=_SALT, digest_size=4).digest()
    return base64.urlsafe_b64encode(check + payload).rstrip(b"=").decode("ascii")


def decode(token: str, kind: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        check, payload = raw[:4], raw[4:]
        if hashlib.blake2s(payload, key=_SALT, digest_size=4).digest() != check:
            raise TokenError(INVALID)
        data = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise TokenError(INVALID) from exc
    if not isinstance(data, dict) or data.get("k") != kind:
        raise TokenError(INVALID)
    return data
