"""The pacing's windows (tap_coda.slots, tap_coda.pacing) on an injected clock.

Coda counts a request when it arrives; the tap knows when it granted the request and when
the answer came. These tests play requests whose arrival lags their grant by different
amounts (a busy interpreter, a new connection) and check every arrival against the rule
Coda applies: no more than `count` arrivals in any window of `seconds`.
"""

from __future__ import annotations

import json
import logging
import typing as t

import pytest

from tap_coda import sending
from tap_coda.pacing import RateLimits, Slot, is_export_status
from tap_coda.slots import ANSWER_CAP_SECONDS, Window, anchor_of, wait_seconds

if t.TYPE_CHECKING:
    from pathlib import Path


class Clock:
    """A clock that only moves when someone sleeps (or the test says so)."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def arrivals_over_the_limit(arrivals: list[float], window: Window) -> list[float]:
    """The arrivals a server counting at arrival would answer with 429."""
    return [
        at
        for at in arrivals
        if sum(1 for other in arrivals if at - window.seconds < other <= at) > window.count
    ]


def limits(clock: Clock, count: int, **kwargs: t.Any) -> RateLimits:
    return RateLimits({"write": count}, clock=clock, sleep=clock.sleep, **kwargs)


def send(limits: RateLimits, clock: Clock, delay: float, latency: float = 0.08) -> float:
    """One request: granted, on the wire `delay` later, answered `latency` after that;
    returns its arrival."""
    slot = limits.acquire("write")
    assert slot is not None
    clock.now += delay
    arrival = clock.now
    clock.now += latency
    slot.answered()
    return arrival


def test_the_wait_is_until_the_oldest_counted_slot_leaves_the_window() -> None:
    window = Window(2, 6.0)
    assert wait_seconds([], 10.0, window) == 0.0
    assert wait_seconds([9.0], 10.0, window) == 0.0
    assert wait_seconds([9.0, 9.5], 10.0, window) == 5.0
    assert wait_seconds([3.0, 9.0, 9.5], 10.0, window) == 5.0  # 3.0 has left the window
    # in flight (no answer yet): counted from now, and never past grant + cap
    assert anchor_of(9.0, None, 10.0, cap=2.0) == 10.0
    assert anchor_of(7.0, None, 10.0, cap=2.0) == 9.0
    assert anchor_of(9.0, 9.3, 10.0, cap=2.0) == 9.3


def play_windows(paced: RateLimits, clock: Clock, *, anchor_at_grant: bool) -> list[float]:
    """Ten windows of three requests granted together; the first of every other window
    reaches the server 0.5 s after its grant, the rest at once, and each is answered 0.08 s
    after it arrived. `anchor_at_grant`: the slot is anchored when granted (the old way)."""
    arrivals = []
    for index in range(10):
        slots = [paced.acquire("write") for _ in range(3)]
        sent = []
        for number, slot in enumerate(slots):
            assert slot is not None
            if anchor_at_grant:
                slot.answered()
            delayed = number == 0 and index % 2 == 0
            sent.append((slot.granted + (0.5 if delayed else 0.0), slot))
        for arrival, slot in sorted(sent, key=lambda pair: pair[0]):
            clock.now = max(clock.now, arrival + 0.08)
            slot.answered()
            arrivals.append(arrival)
    return arrivals


def test_a_request_delayed_on_its_way_does_not_let_the_next_window_open_early() -> None:
    clock, window = Clock(), Window(3, 6.0)
    paced = limits(clock, window.count, window_s=window.seconds)
    assert arrivals_over_the_limit(play_windows(paced, clock, anchor_at_grant=False), window) == []


def test_pacing_by_grant_time_and_a_margin_lets_that_delay_through() -> None:
    """The check above can fail: anchored at the grant over a window 0.15 s longer (the
    old pacing), the next window opens while the delayed request still counts."""
    clock, window = Clock(), Window(3, 6.0)
    paced = limits(clock, window.count, window_s=window.seconds + 0.15)
    assert arrivals_over_the_limit(play_windows(paced, clock, anchor_at_grant=True), window)


def test_each_slot_opens_as_soon_as_the_answer_it_waits_for_is_a_window_old() -> None:
    clock, window = Clock(), Window(2, 6.0)
    paced = limits(clock, window.count, window_s=window.seconds)
    start = clock.now
    arrivals = [send(paced, clock, delay=0.0, latency=0.05) for _ in range(6)]
    # answers came 0.05 after each arrival: every pair is one window plus that later
    assert [round(a - start, 6) for a in arrivals] == [0.0, 0.05, 6.05, 6.1, 12.1, 12.15]
    assert arrivals_over_the_limit(arrivals, window) == []


def test_an_unanswered_request_holds_its_slot_until_grant_plus_cap() -> None:
    clock = Clock()
    paced = limits(clock, 1, window_s=6.0)
    first = paced.acquire("write")
    assert first is not None
    clock.now += 0.5
    second = paced.acquire("write")  # the first is still in flight: never answered
    assert second is not None
    assert second.granted - first.granted == ANSWER_CAP_SECONDS + 6.0


def test_an_answer_in_flight_is_waited_for_not_guessed() -> None:
    """Two sent together, both in flight when the third asks: it waits a window from now
    (the earliest their answers could anchor), then finds their answer times."""
    clock = Clock()
    in_flight: list[Slot] = []
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:  # the answers come in 0.1 s into the first wait
            clock.now += 0.1
            for slot in in_flight:
                slot.answered()
            seconds -= 0.1
        clock.now += seconds

    paced = RateLimits({"write": 2}, window_s=6.0, clock=clock, sleep=sleep)
    started = clock.now
    in_flight.extend(t.cast("Slot", paced.acquire("write")) for _ in range(2))
    third = paced.acquire("write")
    assert third is not None
    assert len(waits) == 2  # a window from the ask, then what the answers left of it
    assert waits[0] == 6.0
    assert round(third.granted - started, 6) == 6.1


def test_two_processes_on_one_file_share_the_window(tmp_path: Path) -> None:
    clock = Clock()
    shared = tmp_path / "pacing.sqlite"
    one, other = (limits(clock, 2, window_s=6.0, shared_file=shared) for _ in range(2))
    start = clock.now
    arrivals = [send(one, clock, 0.0), send(other, clock, 0.0), send(one, clock, 0.0)]
    assert round(arrivals[2] - start, 6) == 6.08  # the first answer plus a window
    assert (shared.stat().st_mode & 0o777) == 0o600


def test_slots_granted_after_now_are_stale_and_dropped(tmp_path: Path) -> None:
    """A monotonic clock restarts at boot: slots from before a reboot look granted in the
    future and must not hold the window."""
    shared = tmp_path / "pacing.sqlite"
    before = Clock(start=50_000.0)
    assert limits(before, 1, shared_file=shared).acquire("write") is not None
    after = Clock(start=30.0)
    slot = limits(after, 1, shared_file=shared).acquire("write")
    assert slot is not None
    assert slot.granted == 30.0


def test_unpaced_classes_take_no_slot() -> None:
    clock = Clock()
    assert limits(clock, 0).acquire("write") is None
    assert limits(clock, 3).acquire("read") is None


def test_a_try_is_anchored_by_a_hook_on_a_copy_of_its_request() -> None:
    import requests

    prepared = requests.Request("GET", "http://127.0.0.1:9/x").prepare()
    clock = Clock()
    slot = limits(clock, 1).acquire("write")
    assert isinstance(slot, Slot)
    copy = sending.anchored(prepared, slot)
    assert prepared.hooks["response"] == []  # a retry starts from the original
    copy.hooks["response"][-1](requests.Response())
    assert slot.done


def test_the_trace_says_when_each_request_asked_was_granted_and_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    paced = limits(clock, 1, window_s=6.0)
    with caplog.at_level(logging.DEBUG, logger="tap_coda.pacing.trace"):
        send(paced, clock, delay=0.0, latency=0.05)
        send(paced, clock, delay=0.0, latency=0.05)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith(".trace")]
    # the second asked when the first was answered, and waited a window from that answer
    assert [round(line["granted"] - line["asked"], 6) for line in lines] == [0.0, 6.0]
    assert all(line["class"] == "write" and line["answered"] > line["granted"] for line in lines)


def test_reserved_slots_are_for_priority_requests_only() -> None:
    """While an export is in flight, a burst of reads that can wait leaves room for the
    export polls the write budget waits on."""
    clock = Clock()
    paced = RateLimits(
        {"read": 4}, window_s=6.0, reserve={"read": 1}, clock=clock, sleep=clock.sleep
    )
    start = clock.now

    def answered_at_once(priority: bool = False) -> float:
        slot = paced.acquire("read", priority=priority)
        assert slot is not None
        slot.answered()
        return slot.granted

    with paced.reserving("read"):
        assert [answered_at_once() for _ in range(3)] == [start] * 3
        assert answered_at_once(priority=True) == start  # the reserved slot, at once
        assert answered_at_once() == start + 6.0  # the others wait for the window


def test_without_work_reserving_them_every_slot_is_anyone_s() -> None:
    """A no-change run (no export in flight) keeps its whole read budget."""
    clock = Clock()
    paced = RateLimits(
        {"read": 4}, window_s=6.0, reserve={"read": 1}, clock=clock, sleep=clock.sleep
    )
    granted = []
    for _ in range(4):
        slot = paced.acquire("read")
        assert slot is not None
        slot.answered()
        granted.append(slot.granted)
    assert granted == [clock.now] * 4


def test_export_status_polls_are_told_from_other_reads() -> None:
    base = "https://coda.io/apis/v1/docs/d-1/pages/p-1/export"
    assert is_export_status("GET", f"{base}/r-1")
    assert not is_export_status("POST", base)
    assert not is_export_status("GET", "https://coda.io/apis/v1/docs/d-1/pages/p-1")
    assert not is_export_status("GET", "https://coda.io/apis/v1/docs/d-1/tables/t-1/rows")
