"""Which runs a retention policy keeps: restic's `forget` rules, as a pure function.

Runs are taken newest first. `--keep-last N` keeps the N newest; `--keep-hourly N` (daily,
weekly, monthly, yearly alike) keeps the newest run of each of the last N hours (days, ISO
weeks, months, years) that hold a run, in UTC, from the run folder's name; `-1` means
unlimited. When a policy still has buckets left at the oldest run, that run is kept too
("oldest daily"), so the history kept is as long as the policy allows. `--keep-within D`
keeps every run younger than D (`1y2m3d4h`) before the newest run (not before now: a
backup that stopped running does not lose its history). A run kept by any rule stays;
the reasons say which rules kept it.
"""

from __future__ import annotations

import calendar
import datetime
import re
import typing as t
from dataclasses import dataclass, field

UNLIMITED = -1
#: restic's buckets, in its order: the reason names follow its output.
BUCKETS: tuple[tuple[str, str], ...] = (
    ("last", "last"),
    ("hourly", "hourly"),
    ("daily", "daily"),
    ("weekly", "weekly"),
    ("monthly", "monthly"),
    ("yearly", "yearly"),
)


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    def __str__(self) -> str:
        parts = zip((self.years, self.months, self.days, self.hours), "ymdh", strict=True)
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0h"

    def before(self, moment: datetime.datetime) -> datetime.datetime:
        """`moment` minus this duration, calendar-wise (restic's AddDate, then hours)."""
        month_index = moment.year * 12 + moment.month - 1 - self.years * 12 - self.months
        year, month = divmod(month_index, 12)
        month += 1
        # AddDate normalises an overflowing day (31 Feb → 3 Mar): so does this
        overflow = max(0, moment.day - calendar.monthrange(year, month)[1])
        base = moment.replace(year=year, month=month, day=moment.day - overflow)
        base += datetime.timedelta(days=overflow)
        return base - datetime.timedelta(days=self.days, hours=self.hours)


_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$")


def parse_duration(text: str) -> Duration:
    """`1y2m3d4h` (any part may be left out); ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not text.strip() or not match:
        msg = f"invalid duration {text!r} (e.g. 7d, 2m, 1y6m, 36h)"
        raise ValueError(msg)
    years, months, days, hours = (int(g or 0) for g in match.groups())
    return Duration(years, months, days, hours)


@dataclass(frozen=True)
class Policy:
    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    within: Duration | None = None

    def empty(self) -> bool:
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        return not any(counts) and (self.within is None or self.within == Duration())

    def __str__(self) -> str:
        parts = [f"{n} {name}" if n != UNLIMITED else f"all {name}" for name, n in self._counts()]
        if self.within is not None:
            parts.append(f"all within {self.within}")
        return "keep " + ", ".join(parts)

    def _counts(self) -> list[tuple[str, int]]:
        return [(name, getattr(self, attr)) for attr, name in BUCKETS if getattr(self, attr)]


@dataclass
class Decision:
    name: str
    moment: datetime.datetime
    reasons: list[str] = field(default_factory=list)

    @property
    def keep(self) -> bool:
        return bool(self.reasons)


def _bucket(kind: str, moment: datetime.datetime, index: int) -> t.Hashable:
    if kind == "hourly":
        return (moment.year, moment.month, moment.day, moment.hour)
    if kind == "daily":
        return (moment.year, moment.month, moment.day)
    if kind == "weekly":
        return moment.isocalendar()[:2]  # ISO year and week: weeks start on Monday
    if kind == "monthly":
        return (moment.year, moment.month)
    if kind == "yearly":
        return moment.year
    return index  # last: every run is its own bucket


def apply_policy(
    snapshots: t.Iterable[tuple[str, datetime.datetime]],
    policy: Policy,
    *,
    now: datetime.datetime | None = None,
) -> list[Decision]:
    """A decision per run, newest first. Pure: the same input gives the same answer."""
    decisions = [Decision(n, m) for n, m in sorted(snapshots, key=lambda s: s[1], reverse=True)]
    if not decisions:
        return []
    now = now or datetime.datetime.now(datetime.timezone.utc)
    past = [d.moment for d in decisions if d.moment < now]  # a clock set wrong: not "newest"
    newest = max(past) if past else decisions[0].moment
    left = {attr: getattr(policy, attr) for attr, _ in BUCKETS}
    last_seen: dict[str, t.Hashable] = {}
    oldest = len(decisions) - 1
    for index, decision in enumerate(decisions):
        if policy.within is not None and decision.moment > policy.within.before(newest):
            decision.reasons.append(f"within {policy.within}")
        for attr, name in BUCKETS:
            if left[attr] == 0:
                continue
            value = _bucket(attr, decision.moment, index)
            repeat = last_seen.get(attr, object()) == value
            if repeat and index != oldest:
                continue
            last_seen[attr] = value
            if left[attr] > 0:
                left[attr] -= 1
            decision.reasons.append(f"oldest {name}" if repeat else name)
    return decisions
