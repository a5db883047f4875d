"""Injected faults, seeded so a failing scenario replays exactly.

A `Fault` matches a request by method and a regex searched in the path (query excluded).
`times` caps how often it fires (None: always); `after` lets that many matching requests
through first (a fault in the middle of a run: `Fault("status", status=401, after=40)` is a
token revoked after 40 requests); `probability` rolls the fake's seeded RNG.
A request that does not fire leaves `times` untouched.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

# kinds that act before routing, on any request
GENERIC_KINDS = frozenset(
    {"status", "429", "reset", "timeout", "slow_body", "truncate", "non_json"}
)
# kinds that act inside one endpoint's logic
EXPORT_KINDS = frozenset({"export_stuck", "export_fail"})  # export status polls
LINK_KINDS = frozenset({"dead_link_403", "dead_link_200"})  # downloadLink fetches
STALE_KINDS = frozenset({"stale"})  # doc requests sending X-Coda-Doc-Version
KINDS = GENERIC_KINDS | EXPORT_KINDS | LINK_KINDS | STALE_KINDS

DEFAULT_SECONDS = {"timeout": 30.0, "slow_body": 3.0}


@dataclass(frozen=True)
class Fault:
    kind: str
    path_re: str = ".*"
    method: str | None = None
    times: int | None = None
    probability: float = 1.0
    status: int | None = None  # kind "status": the status to answer (default 500)
    retry_after: float | None = None  # kinds "429"/"status": add a Retry-After header
    seconds: float | None = None  # "timeout": hold the request; "slow_body": spread the body
    after: int = 0  # matching requests let through before the fault may fire

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(KINDS)}")
        re.compile(self.path_re)

    @property
    def delay(self) -> float:
        return self.seconds if self.seconds is not None else DEFAULT_SECONDS.get(self.kind, 0.0)


class FaultInjector:
    def __init__(self, faults: list[Fault], seed: int) -> None:
        self.faults = list(faults)
        self.hits = [0] * len(self.faults)
        self.seen = [0] * len(self.faults)  # matching requests, for `after`
        self._patterns = [re.compile(f.path_re) for f in self.faults]
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def take(self, kinds: frozenset[str], method: str, path: str) -> Fault | None:
        """The first fault of `kinds` that fires for this request, consuming one hit."""
        if not self.faults:
            return None
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.kind not in kinds:
                    continue
                if fault.method is not None and fault.method.upper() != method:
                    continue
                if fault.times is not None and self.hits[i] >= fault.times:
                    continue
                if not self._patterns[i].search(path):
                    continue
                self.seen[i] += 1
                if self.seen[i] <= fault.after:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                self.hits[i] += 1
                return fault
        return None
