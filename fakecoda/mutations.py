"""Coda's asynchronous writes: a 202 and a request id now, the change applied later.

Every write endpoint (writes.py) hands its change to the `MutationQueue` as a closure; the
queue applies due changes in arrival order whenever the API handles a request (under the
workspace lock), so a client sees a write only after `mutation_seconds` have passed and
`GET /mutationStatus/{id}` says `completed` (NOTES.md §10: row writes take 10-23 s live).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Mutation:
    id: str
    due: float  # time.monotonic() when the change may be applied
    apply: Callable[[], str | None]  # returns a warning, or None
    completed: bool = False
    warning: str | None = None
    polls: int = 0


@dataclass
class MutationQueue:
    delay: float = 0.0
    seed: int = 0
    mutations: dict[str, Mutation] = field(default_factory=dict)
    _pending: list[Mutation] = field(default_factory=list)
    #: ids a queued page creation will give its page: later writes may name them already
    pending_pages: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._random = random.Random(f"mutations:{self.seed}")

    def submit(self, apply: Callable[[], str | None]) -> str:
        """Queue a change; returns the request id a 202 carries (`DocumentMutateResponse`)."""
        bits = self._random.getrandbits(128)
        request_id = f"mutate:{bits:032x}"
        mutation = Mutation(request_id, time.monotonic() + self.delay, apply)
        self.mutations[request_id] = mutation
        self._pending.append(mutation)
        return request_id

    def settle(self, *, everything: bool = False) -> int:
        """Apply every due change (all with `everything`), oldest first; returns how many."""
        now = time.monotonic()
        done = 0
        while self._pending and (everything or self._pending[0].due <= now):
            mutation = self._pending.pop(0)
            try:
                mutation.warning = mutation.apply()
            except KeyError as exc:  # what it names went away meanwhile: Coda warns
                mutation.warning = f"Nothing to change: {exc.args[0] if exc.args else exc}"
            mutation.completed = True
            done += 1
        return done

    @property
    def pending(self) -> int:
        return len(self._pending)
