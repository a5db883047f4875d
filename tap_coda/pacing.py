"""Pacing: Coda's per-user rate limits, kept by every tap-coda process of one token.

Coda counts requests per user, so two runs started together share one budget. Each rate
class is a sliding window of slots (`tap_coda.slots`): a request takes a slot before it is
sent and the slot is anchored at the request's answer, so no window the client sees
starts before Coda's. By default the slots live in a private SQLite file under the user's
cache folder, so every process of the same token and API on this machine paces against
the same windows. The file is named by a hash of the API URL and the token: the token
itself is never written. Pacing before sending keeps a normal run free of 429s; Coda
publishes no rate-limit headers to learn the budget from.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import typing as t
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from tap_coda.slots import MemorySlots, SQLiteSlots, Window

logger = logging.getLogger(__name__)
#: One line per paced request (off by default: enable this logger at DEBUG, e.g. through
#: SINGER_SDK_LOG_CONFIG): when it asked, was granted and answered (time.monotonic()).
trace = logging.getLogger("tap_coda.pacing.trace")

#: Coda's published limits, per user, in requests per 6 seconds (NOTES.md §9).
DEFAULT_RATE_LIMITS = {"read": 100, "write": 10, "list_docs": 4}
RATE_WINDOW_SECONDS = 6
#: The shortest sleep before looking at a window again (a wait computed as a tiny float
#: must still move the clock on).
MIN_WAIT_SECONDS = 0.001
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


_EXPORT_STATUS = re.compile(r"/docs/[^/]+/pages/[^/]+/export/[^/]+/?$")


def is_export_status(method: str, url: str) -> bool:
    """A page export's status poll: a read the write budget waits on (the export's worker
    starts no other export until it is done), so it goes before reads that can wait."""
    return method.upper() == "GET" and bool(_EXPORT_STATUS.search(urlparse(url).path))


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
    """Create the folder (0700) and the file (0600) before SQLite opens it, so it is never
    readable by others, whatever the umask (SQLite gives its -wal and -shm files the
    file's mode)."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
    path.chmod(PRIVATE_FILE)


@dataclass
class Slot:
    """A request's room in its window, taken before sending; `answered()` (at the answer's
    headers, or when the try ends without one) anchors it there. Later calls do nothing."""

    rate_class: str
    key: int
    asked: float
    granted: float
    limits: RateLimits = field(repr=False)
    label: str = ""
    done: bool = False

    def answered(self) -> None:
        if not self.done:
            self.done = True
            self.limits.answered(self)

    def hook(self, response: object, **_kwargs: object) -> None:
        """A requests response hook: it runs once the headers are in, before the body."""
        self.answered()


class RateLimits:
    """One sliding window per Coda rate class (0 or less: that class unpaced).

    With `shared_file`, the windows live in that SQLite file and bind every process
    using it; without, they are this process's alone. `clock` and `sleep` are
    `time.monotonic` and `time.sleep` (tests pass their own).
    """

    def __init__(
        self,
        per_window: t.Mapping[str, int],
        window_s: float = RATE_WINDOW_SECONDS,
        shared_file: Path | None = None,
        *,
        reserve: t.Mapping[str, int] | None = None,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self._windows = {
            name: Window(count, window_s) for name, count in per_window.items() if count > 0
        }
        # Slots kept for priority requests while `reserving` holds them, up to `reserve`.
        self._reserve_cap = dict(reserve or {})
        self._held: dict[str, int] = {}
        self._held_lock = threading.Lock()
        if shared_file is not None and self._windows:
            _private(shared_file)
        self.shared_file = shared_file if self._windows else None
        self._slots = SQLiteSlots(self.shared_file) if self.shared_file else MemorySlots()
        # Waiters of a class queue here, so only the first polls the window (a priority
        # request queues apart: it must not wait behind one held back by the reserve).
        self._turns = {(name, p): threading.Lock() for name in self._windows for p in (0, 1)}
        self._clock, self._sleep = clock, sleep

    def acquire(self, rate_class: str, label: str = "", *, priority: bool = False) -> Slot | None:
        """Wait until a request of `rate_class` fits in its window and take its slot
        (None: the class is not paced). Call the slot's `answered()` when the try ends.
        Only a `priority` request may use the slots `reserving` keeps."""
        window = self._windows.get(rate_class)
        if window is None:
            return None
        asked = self._clock()
        with self._turns[(rate_class, int(priority))]:
            while True:
                now = self._clock()
                room = window if priority else self._unreserved(rate_class, window)
                key, wait = self._slots.take(rate_class, room, now)
                if key is not None:
                    return Slot(rate_class, key, asked, now, self, label)
                self._sleep(max(wait, MIN_WAIT_SECONDS))

    def _unreserved(self, rate_class: str, window: Window) -> Window:
        """The part of the window a request without priority may use."""
        with self._held_lock:
            kept = min(self._held.get(rate_class, 0), self._reserve_cap.get(rate_class, 0))
        return replace(window, count=max(1, window.count - kept)) if kept else window

    @contextlib.contextmanager
    def reserving(self, rate_class: str) -> t.Iterator[None]:
        """While inside, one more slot of the class (up to `reserve`) is kept for priority
        requests: held by work whose priority requests the run waits on."""
        with self._held_lock:
            self._held[rate_class] = self._held.get(rate_class, 0) + 1
        try:
            yield
        finally:
            with self._held_lock:
                self._held[rate_class] -= 1

    def answered(self, slot: Slot) -> None:
        at = self._clock()
        self._slots.answer(slot.rate_class, slot.key, at)
        if trace.isEnabledFor(logging.DEBUG):
            times = {"asked": slot.asked, "granted": slot.granted, "answered": at}
            trace.debug("%s", json.dumps({"class": slot.rate_class, "label": slot.label, **times}))


def build_rate_limits(
    per_window: t.Mapping[str, int],
    *,
    api_url: str,
    token: str,
    shared: bool,
    folder: str | None,
    window_s: float = RATE_WINDOW_SECONDS,
    reserve: t.Mapping[str, int] | None = None,
) -> RateLimits:
    """The tap's pacing: shared through `folder` (default: the user's cache folder) unless
    `shared` is off or the file cannot be made, then this process's alone (one line says
    why)."""
    if not shared:
        return RateLimits(per_window, window_s, reserve=reserve)
    where = Path(folder).expanduser() if folder else default_pacing_dir()
    try:
        shared_file = pacing_file(where, api_url, token)
        return RateLimits(per_window, window_s, shared_file, reserve=reserve)
    except (OSError, sqlite3.Error) as exc:
        logger.warning("Pacing this process alone: cannot share it through %s (%s)", where, exc)
        return RateLimits(per_window, window_s, reserve=reserve)
