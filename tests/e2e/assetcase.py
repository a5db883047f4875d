"""What the asset tests share (issue #14): the token, the tap's settings against the fake's
asset host, and how a manifest's asset entries are read."""

from __future__ import annotations

import json
import typing as t

from tests.helpers import FAST_TAP

if t.TYPE_CHECKING:
    from pathlib import Path

    from fakecoda import FakeCoda

TOKEN = "tok-ASSETS-sEcReT-0a55e7"
FORMATS = ["markdown", "html"]


def tap_config(fake: FakeCoda) -> dict[str, t.Any]:
    """Both formats; the fake's asset host is the one allowed."""
    assert fake.asset_host is not None
    return {
        "api_url": fake.url,
        **FAST_TAP,
        "page_formats": FORMATS,
        "asset_hosts": [fake.asset_host.host],
    }


def load(path: Path) -> t.Any:
    return json.loads(path.read_text(encoding="utf-8"))


def key_of(asset_key: str, manifest_key: str) -> bool:
    return f"/blobs/{asset_key}/" in manifest_key
