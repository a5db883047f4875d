"""`--ping-url URL`: tell a monitor (healthchecks.io and the like) a run started and ended.

`URL/start` when the run starts and `URL/<exit code>` when it ends, as healthchecks.io
reads them (0 is success, anything else a failure). A ping has a short timeout and never
fails or delays the backup beyond it: a ping that does not get through is one warning.
The URL itself is not logged (a check's URL is its secret); only its host is.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request

logger = logging.getLogger("coda-backup")

TIMEOUT_S = 10.0


def ping(url: str | None, event: str, *, timeout: float = TIMEOUT_S) -> bool:
    """Send one ping; True when the monitor answered 2xx."""
    if not url:
        return False
    target = f"{url.rstrip('/')}/{event}"
    host = urllib.parse.urlsplit(url).netloc or "the ping URL"
    # urllib, not requests: two tiny GETs do not justify importing requests at every start
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked by the flag
            response.read(1024)
    except urllib.error.HTTPError as exc:
        logger.warning("ping %r to %s failed: HTTP %d", event, host, exc.code)
        return False
    except (OSError, ValueError) as exc:  # URLError, timeouts, resets, a bad URL
        logger.warning("ping %r to %s failed: %s", event, host, type(exc).__name__)
        return False
    return True
