"""Coda's rate limits: sliding windows per rate class and token (NOTES §9).

Coda publishes no rate-limit headers; an excess request simply answers 429. A rejected
request does not use up budget, so a client that paces itself exactly at the limit never
sees a 429.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace

RATE_CLASSES = ("read", "write", "list_docs", "doc_content_writes")


@dataclass(frozen=True)
class Limit:
    count: int
    window: float  # seconds


@dataclass(frozen=True)
class RateLimits:
    """None for a class means unlimited. `doc_content_writes` binds page creations and
    updates (POST/PUT on pages) on top of `write`; the export POST is a plain write."""

    read: Limit | None = None
    write: Limit | None = None
    list_docs: Limit | None = None
    doc_content_writes: Limit | None = None

    @classmethod
    def coda(cls) -> RateLimits:
        """The published numbers: reads 100/6 s, writes 10/6 s, list docs 4/6 s,
        doc content writes 5/10 s."""
        return cls(
            read=Limit(100, 6.0),
            write=Limit(10, 6.0),
            list_docs=Limit(4, 6.0),
            doc_content_writes=Limit(5, 10.0),
        )

    def scaled(self, factor: float) -> RateLimits:
        """Multiply every *rate* by `factor`, keeping Coda's burst sizes: the windows
        stretch (factor < 1, stricter) or shrink (factor > 1, faster tests)."""
        if factor <= 0:
            raise ValueError("factor must be positive")

        def scale(limit: Limit | None) -> Limit | None:
            return None if limit is None else replace(limit, window=limit.window / factor)

        return RateLimits(*(scale(getattr(self, name)) for name in RATE_CLASSES))


class SlidingWindowLimiter:
    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def allow_all(self, token: str, rate_classes: tuple[str | None, ...]) -> bool:
        """A request counted in several classes: allowed only if every one has room, and
        then counted in each (a refused request uses no budget anywhere)."""
        if self.limits is None:
            return True
        limits = [
            (c, limit)
            for c in rate_classes
            if c in RATE_CLASSES and (limit := getattr(self.limits, str(c))) is not None
        ]
        now = time.monotonic()
        with self._lock:
            windows = []
            for rate_class, limit in limits:
                hits = self._hits.setdefault((token, str(rate_class)), deque())
                while hits and hits[0] <= now - limit.window:
                    hits.popleft()
                if len(hits) >= limit.count:
                    return False
                windows.append(hits)
            for hits in windows:
                hits.append(now)
            return True

    def allow(self, token: str, rate_class: str | None) -> bool:
        return self.allow_all(token, (rate_class,))
