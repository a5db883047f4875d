"""Sliding windows of request slots, anchored where Coda may have counted each request.

Coda counts a request when it arrives. The client knows two moments around that arrival:
the grant (before it: the request has not left yet) and the answer's headers (after it:
the server cannot answer what has not arrived). Anchoring each slot at its answer makes
the next window start no earlier than Coda's, whatever delayed the request between the
grant and the wire (a busy interpreter, a new connection); a fixed margin after the grant
only covers delays shorter than itself. A request not answered within `cap` seconds of
its grant is anchored at grant + `cap`, so one slow answer holds its slot no longer (this
takes any request to have left within `cap` of its grant).

While a request is in flight its anchor is unknown but at least `now`, so `wait_seconds`
counts it at `now`: the wait it returns is the least the window allows, and the caller
asks again when it ends. The decision is pure; the stores keep the slots for one process
(`MemorySlots`) or for every process of one token (`SQLiteSlots`, one file).
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from pathlib import Path

#: A request unanswered this long after its grant is taken to have arrived by then. On a
#: machine loaded to 5 runnable processes a core, requests reached the fake at most 0.15 s
#: after their grant while their answers were seen up to 2.7 s after it (the answering
#: thread waits for the interpreter): anchoring those at the answer only idles the budget.
ANSWER_CAP_SECONDS = 0.5


@dataclass(frozen=True)
class Window:
    count: int
    seconds: float
    cap: float = ANSWER_CAP_SECONDS


def anchor_of(granted: float, answered: float | None, now: float, cap: float) -> float:
    """Where a slot counts: its answer (at most grant + cap); in flight, at least `now`."""
    if answered is None:
        return min(now, granted + cap)
    return min(answered, granted + cap)


def wait_seconds(anchors: t.Iterable[float], now: float, window: Window) -> float:
    """0.0 when a request may go now; else the least time until the window has room."""
    live = sorted(a for a in anchors if a > now - window.seconds)
    if len(live) < window.count:
        return 0.0
    return live[len(live) - window.count] + window.seconds - now


class MemorySlots:
    """One process's slots, per class: the answered ones' anchors (sorted) and the ones
    in flight (id -> grant, cap). Only live slots are kept, so counting is cheap and
    only a full window is sorted."""

    def __init__(self) -> None:
        self._answered: dict[str, list[float]] = {}
        self._flying: dict[str, dict[int, tuple[float, float]]] = {}
        self._next = 0
        self._lock = threading.Lock()

    def take(self, rate_class: str, window: Window, now: float) -> tuple[int | None, float]:
        """(slot id, 0.0) when taken at `now`, else (None, seconds to wait)."""
        with self._lock:
            answered = self._answered.setdefault(rate_class, [])
            flying = self._flying.setdefault(rate_class, {})
            gone = now - window.seconds
            del answered[: bisect.bisect_right(answered, gone)]
            in_flight = {key: anchor_of(g, None, now, cap) for key, (g, cap) in flying.items()}
            for key in [k for k, anchor in in_flight.items() if anchor <= gone]:
                del flying[key], in_flight[key]
            if len(answered) + len(flying) >= window.count:
                return None, wait_seconds([*answered, *in_flight.values()], now, window)
            self._next += 1
            flying[self._next] = (now, window.cap)
            return self._next, 0.0

    def answer(self, rate_class: str, key: int, at: float) -> None:
        with self._lock:
            flown = self._flying.get(rate_class, {}).pop(key, None)
            if flown is not None:  # else: it already left the window
                granted, cap = flown
                bisect.insort(self._answered[rate_class], anchor_of(granted, at, at, cap))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_slots (
    rate_class TEXT NOT NULL,
    granted REAL NOT NULL,
    until REAL NOT NULL,  -- grant + cap: the latest this slot can be anchored
    anchor REAL           -- NULL while in flight
);
CREATE INDEX IF NOT EXISTS rate_slots_by_class ON rate_slots (rate_class);
"""
#: Where a slot counts (`anchor_of`), in SQL; ?1 is now.
_ANCHOR = "COALESCE(anchor, MIN(?1, until))"


class SQLiteSlots:
    """Slots in a SQLite file every process of the token opens: each take is one
    `BEGIN IMMEDIATE` transaction, so two processes never take the same room. Only live
    slots are kept. Times are `time.monotonic()`, one clock for every process of the
    machine; a slot granted "in the future" is from before a reboot and is dropped."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def take(self, rate_class: str, window: Window, now: float) -> tuple[int | None, float]:
        """(slot id, 0.0) when taken at `now`, else (None, seconds to wait)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "DELETE FROM rate_slots WHERE rate_class = ?2"
                    " AND (granted > ?1 + 1.0 OR COALESCE(anchor, until) <= ?1 - ?3)",
                    (now, rate_class, window.seconds),
                )
                (live,) = db.execute(
                    "SELECT COUNT(*) FROM rate_slots WHERE rate_class = ?", (rate_class,)
                ).fetchone()
                key, wait = None, 0.0
                if live >= window.count:
                    (blocking,) = db.execute(
                        f"SELECT {_ANCHOR} AS a FROM rate_slots WHERE rate_class = ?2"  # noqa: S608 - a constant
                        " ORDER BY a LIMIT 1 OFFSET ?3",
                        (now, rate_class, live - window.count),
                    ).fetchone()
                    wait = blocking + window.seconds - now
                else:
                    key = db.execute(
                        "INSERT INTO rate_slots (rate_class, granted, until) VALUES (?, ?, ?)",
                        (rate_class, now, now + window.cap),
                    ).lastrowid
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return key, wait

    def answer(self, rate_class: str, key: int, at: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE rate_slots SET anchor = MIN(?, until) WHERE rowid = ?", (at, key)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
