"""Totals announced as soon as they are known, for a progress display (coda-backup's).

One INFO line on the `tap_coda.progress` logger per fact: the docs listed, each doc's
pages and the exports planned for them, each doc's tables, each table's `rowCount`. They
go to stderr with the other log lines, so every Singer target ignores them; stdout (the
Singer messages) is unchanged. coda-backup reads them in `coda_backup.totals`.
"""

from __future__ import annotations

import json
import logging
import typing as t

logger = logging.getLogger("tap_coda.progress")


def announce(event: str, **facts: t.Any) -> None:
    """`{"event": "pages", "doc": "AbC", "pages": 12, "exports": 10}` as one log line."""
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s", json.dumps({"event": event, **facts}, separators=(",", ":")))
