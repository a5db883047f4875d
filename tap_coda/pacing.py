"""Pacing: Coda's per-user rate limits, kept by every tap-coda process of one token.

Coda counts requests per user, so two runs started together share one budget. Each rate
class gets a pyrate-limiter sliding window; by default its bucket is a SQLite table in a
private file under the user's cache folder, guarded by a file lock (pyrate-limiter's
`SQLiteBucket` with `use_file_lock`), so every process of the same token and API on this
machine paces against the same window. The file is named by a hash of the API URL and
the token: the token itself is never written. Pacing before sending keeps a normal run
free of 429s; Coda publishes no rate-limit headers to learn the budget from.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import typing as t
from pathlib import Path
from urllib.parse import urlparse

from pyrate_limiter import AbstractBucket, Duration, InMemoryBucket, Limiter, Rate, SQLiteBucket

logger = logging.getLogger(__name__)

#: Coda's published limits, per user, in requests per 6 seconds (NOTES.md §9).
DEFAULT_RATE_LIMITS = {"read": 100, "write": 10, "list_docs": 4}
RATE_WINDOW_SECONDS = 6
#: Coda counts a request when it arrives, the limiter when it is granted; a request can
#: wait a moment for a connection in between. Pacing over a slightly longer window keeps
#: that gap from turning the last request of a window into a 429.
RATE_WINDOW_MARGIN_SECONDS = 0.15
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def rate_class_of(method: str, url: str) -> str:
    """Coda's rate class of a request: listing docs, writing (the export POST, a restore's
    writes) or reading."""
    if method.upper() != "GET":
        return "write"
    return "list_docs" if urlparse(url).path.rstrip("/").endswith("/docs") else "read"


#: Creating or updating pages writes doc content: Coda's stricter limit, on top of the
#: write limit (NOTES.md §9: 5 per 10 s published, 3 per 10 s since 2024 per Coda's staff).
DOC_CONTENT_WRITES, DOC_CONTENT_WINDOW_SECONDS = 3, 10
_PAGE_WRITE = re.compile(r"/docs/[^/]+/pages(/[^/]+)?/?$")


def is_doc_content_write(method: str, url: str) -> bool:
    """A page creation or update (not an export, which is a plain write)."""
    return method.upper() in ("POST", "PUT") and bool(_PAGE_WRITE.search(urlparse(url).path))


def default_pacing_dir() -> Path:
    """`$XDG_CACHE_HOME/tap-coda`, else `~/.cache/tap-coda`."""
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(cache) if cache else Path.home() / ".cache") / "tap-coda"


def pacing_file(folder: Path, api_url: str, token: str) -> Path:
    """The shared file for this token and API: named by a hash, never by the token."""
    key = hashlib.sha256(f"{api_url.rstrip('/')}\n{token}".encode()).hexdigest()[:24]
    return folder / f"pacing-{key}.sqlite"


def _private(path: Path) -> None:
    """Create the folder (0700) and the file and its lock file (0600) before SQLite and
    the lock open them, so they are never readable by others, whatever the umask."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for file in (path, path.with_name(path.name + ".lock")):
        os.close(os.open(file, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
        file.chmod(PRIVATE_FILE)


class RateLimits:
    """One sliding-window limiter per Coda rate class (0 or less: that class unpaced).

    With `shared_file`, the windows live in that SQLite file and bind every process
    using it; without, they are this process's alone.
    """

    def __init__(
        self,
        per_window: t.Mapping[str, int],
        window_s: float = RATE_WINDOW_SECONDS + RATE_WINDOW_MARGIN_SECONDS,
        shared_file: Path | None = None,
    ) -> None:
        paced = {name: count for name, count in per_window.items() if count > 0}
        if shared_file is not None and paced:
            _private(shared_file)
        self.shared_file = shared_file if paced else None
        self._limiters = {
            name: Limiter(self._bucket(name, Rate(count, int(Duration.SECOND * window_s))))
            for name, count in paced.items()
        }

    def _bucket(self, name: str, rate: Rate) -> AbstractBucket:
        if self.shared_file is None:
            return InMemoryBucket([rate])
        return SQLiteBucket.init_from_file(
            [rate], table=f"rate_{name}", db_path=str(self.shared_file), use_file_lock=True
        )

    def acquire(self, rate_class: str) -> None:
        """Wait until a request of `rate_class` fits in its window, and count it."""
        limiter = self._limiters.get(rate_class)
        if limiter is not None:
            limiter.try_acquire(rate_class)


def build_rate_limits(
    per_window: t.Mapping[str, int],
    *,
    api_url: str,
    token: str,
    shared: bool,
    folder: str | None,
    window_s: float = RATE_WINDOW_SECONDS + RATE_WINDOW_MARGIN_SECONDS,
) -> RateLimits:
    """The tap's pacing: shared through `folder` (default: the user's cache folder) unless
    `shared` is off or the file cannot be made, then this process's alone (one line says
    why)."""
    if not shared:
        return RateLimits(per_window, window_s)
    where = Path(folder).expanduser() if folder else default_pacing_dir()
    try:
        return RateLimits(per_window, window_s, shared_file=pacing_file(where, api_url, token))
    except (OSError, sqlite3.Error, ImportError) as exc:  # ImportError: no filelock extra
        logger.warning("Pacing this process alone: cannot share it through %s (%s)", where, exc)
        return RateLimits(per_window, window_s)
