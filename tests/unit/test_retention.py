"""Prune decisions, table-driven against restic's documented `forget` examples
(doc/060_forget.rst) and its rules (keep-within relative to the newest snapshot, the
oldest snapshot kept while a policy has buckets left, unlimited counts)."""

from __future__ import annotations

import datetime

import pytest

from coda_backup.retention import Duration, Policy, apply_policy, parse_duration

UTC = datetime.timezone.utc


def at(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


#: restic's example: backups every weekday for two weeks, an extra one on Fridays, and
#: the second Wednesday missed. Names are restic's snapshot ids.
WEEKDAYS = {
    "60e5c031": "2025-04-21 11:00",
    "1dccffe9": "2025-04-22 11:00",
    "90a5c949": "2025-04-23 11:00",
    "79580708": "2025-04-24 11:00",
    "8a603ddf": "2025-04-25 11:00",
    "ae33bf10": "2025-04-25 23:00",
    "fb8b1418": "2025-04-28 11:00",
    "1db188b4": "2025-04-29 11:00",
    "7baa4f28": "2025-05-01 11:00",
    "05c48af3": "2025-05-02 11:00",
    "ad72e262": "2025-05-02 23:00",
}
NOW = at("2025-05-03 12:00")

CASES = [
    # restic: `forget --keep-daily 5` keeps one per day for the last five days with one
    # (the Friday 23:00 backup of the week before, since Wednesday was missed)
    (Policy(daily=5), {"ae33bf10", "fb8b1418", "1db188b4", "7baa4f28", "ad72e262"}),
    (Policy(last=3), {"7baa4f28", "05c48af3", "ad72e262"}),
    # weekly: the newest of each ISO week (Monday to Sunday)
    (Policy(weekly=2), {"ae33bf10", "ad72e262"}),
    # one week has buckets left at the oldest run: it is kept too ("oldest weekly")
    (Policy(weekly=3), {"60e5c031", "ae33bf10", "ad72e262"}),
    (Policy(monthly=1), {"ad72e262"}),
    (Policy(monthly=2), {"ad72e262", "1db188b4"}),
    # keep-within counts back from the newest run (05-02 23:00), not from now; strictly
    # younger than the cut (04-29 11:00 itself is not kept)
    (Policy(within=Duration(days=3, hours=12)), {"7baa4f28", "05c48af3", "ad72e262"}),
    (Policy(within=Duration(days=3, hours=13)), {"1db188b4", "7baa4f28", "05c48af3", "ad72e262"}),
    (Policy(hourly=2, last=1), {"05c48af3", "ad72e262"}),
    (
        Policy(daily=-1),
        {
            "60e5c031",
            "1dccffe9",
            "90a5c949",
            "79580708",
            "ae33bf10",
            "fb8b1418",
            "1db188b4",
            "7baa4f28",
            "ad72e262",
        },
    ),
    (Policy(daily=2, weekly=2), {"ae33bf10", "7baa4f28", "ad72e262"}),
]


@pytest.mark.parametrize(("policy", "kept"), CASES, ids=[str(p) for p, _ in CASES])
def test_restic_weekday_example(policy: Policy, kept: set[str]) -> None:
    decisions = apply_policy([(n, at(m)) for n, m in WEEKDAYS.items()], policy, now=NOW)
    assert {d.name for d in decisions if d.keep} == kept
    assert [d.moment for d in decisions] == sorted((at(m) for m in WEEKDAYS.values()), reverse=True)


def test_reasons_name_every_policy_that_kept_a_run() -> None:
    decisions = apply_policy(
        [(n, at(m)) for n, m in WEEKDAYS.items()], Policy(last=1, daily=2, weekly=3), now=NOW
    )
    reasons = {d.name: d.reasons for d in decisions if d.keep}
    assert reasons["ad72e262"] == ["last", "daily", "weekly"]
    assert reasons["7baa4f28"] == ["daily"]
    assert reasons["ae33bf10"] == ["weekly"]
    assert reasons["60e5c031"] == ["oldest weekly"]


def test_restic_hundred_years_of_dailies() -> None:
    """restic: one backup a day for 100 years, `--keep-daily 7 --keep-weekly 5
    --keep-monthly 12 --keep-yearly 75` keeps the 7 newest days, 4 more last days of a
    week, 12 or 11 last days of a month and 75 or 74 last days of a year."""
    start = datetime.datetime(1925, 1, 1, 3, tzinfo=UTC)
    # ending on a Sunday, as the example counts it (the 7 dailies hold one weekly)
    days = [start + datetime.timedelta(days=i) for i in range(36523)]
    assert days[-1].isoweekday() == 7
    policy = Policy(daily=7, weekly=5, monthly=12, yearly=75)
    decisions = apply_policy(
        [(d.isoformat(), d) for d in days], policy, now=days[-1] + datetime.timedelta(hours=1)
    )
    kept = [d for d in decisions if d.keep]
    daily = [d.moment for d in kept if "daily" in d.reasons]
    assert daily == sorted(days[-7:], reverse=True)
    weekly_only = [d.moment for d in kept if d.reasons == ["weekly"]]
    assert len(weekly_only) == 4 and all(m.isoweekday() == 7 for m in weekly_only)
    monthly = [d for d in kept if "monthly" in d.reasons]
    assert len(monthly) == 12
    assert 11 <= sum(d.reasons == ["monthly"] for d in kept) <= 12
    assert all((m.moment + datetime.timedelta(days=1)).day == 1 for m in monthly[1:])
    yearly = [d for d in kept if "yearly" in d.reasons]
    assert len(yearly) == 75
    assert 74 <= sum(d.reasons == ["yearly"] for d in kept) <= 75
    assert all((y.moment.month, y.moment.day) == (12, 31) for y in yearly[1:])


def test_oldest_run_is_kept_while_buckets_are_left() -> None:
    same_day = [("b", at("2025-01-01 10:00")), ("a", at("2025-01-01 09:00"))]
    decisions = apply_policy(same_day, Policy(daily=5), now=NOW)
    assert [(d.name, d.reasons) for d in decisions] == [("b", ["daily"]), ("a", ["oldest daily"])]


def test_empty_policy_and_durations() -> None:
    assert Policy().empty()
    assert Policy(within=Duration()).empty()
    assert not Policy(yearly=1).empty()
    assert parse_duration("1y2m3d4h") == Duration(1, 2, 3, 4)
    assert parse_duration("36h") == Duration(hours=36)
    for bad in ("", "3w", "d", "1d2y", "-1d"):
        with pytest.raises(ValueError, match="invalid duration"):
            parse_duration(bad)
    # calendar months, normalised as restic's AddDate does (31 March - 1 month = 3 March)
    assert Duration(months=1).before(at("2025-03-31 00:00")) == at("2025-03-03 00:00")
    assert Duration(years=1).before(at("2024-02-29 06:00")) == at("2023-03-01 06:00")
