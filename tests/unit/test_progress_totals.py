"""Progress numbers (counts + announced totals → what is shown): coda_backup.totals."""

from __future__ import annotations

import pytest

from coda_backup.totals import Totals, describe, snapshot

LIMITS = {"read": 100.0, "write": 10.0}


def announced(*, docs: int = 2, listed: int = 2, tables: bool = True) -> Totals:
    totals = Totals()
    totals.apply({"event": "docs", "count": docs, "readable": docs})
    for n in range(listed):
        totals.apply({"event": "pages", "doc": f"d{n}", "pages": 10, "exports": 8})
        if tables:
            totals.apply({"event": "tables", "doc": f"d{n}", "count": 2})
            for tb in range(2):
                totals.apply({"event": "table", "doc": f"d{n}", "table": f"t{tb}", "rows": 500})
    return totals


def test_nothing_announced_shows_bare_counts_and_no_estimate() -> None:
    snap = snapshot({b"docs": 0, b"rows": 12}, Totals(), elapsed_s=3, limits=LIMITS)
    failed = snapshot({b"failures": 2}, Totals(), elapsed_s=3, limits=LIMITS)
    assert "failures 2" in describe(failed)
    assert snap.fraction is None
    assert snap.eta_s is None
    assert describe(snap) == ("docs 0 · pages 0 · exports 0 · tables 0 · rows 12 · 0:03")


def test_totals_per_kind_once_the_listings_are_in() -> None:
    snap = snapshot({b"pages": 5, b"page_contents": 4}, announced(), elapsed_s=10, limits=LIMITS)
    counts = {kind: count.text() for kind, count in snap.counts.items()}
    assert counts == {
        "docs": "0/2",
        "pages": "5/20",
        "exports": "4/16",
        "tables": "0/4",
        "rows": "0/2,000",
    }


def test_a_total_still_growing_is_marked_and_estimates_cover_every_doc() -> None:
    partial = announced(docs=4, listed=2)
    snap = snapshot({b"page_contents": 8}, partial, elapsed_s=10, limits=LIMITS)
    assert snap.counts["exports"].text() == "8/16+"
    # the estimate extrapolates to the 4 docs: 8 of 32 exports, not 8 of 16
    complete = snapshot({b"page_contents": 8}, announced(docs=4, listed=4), elapsed_s=10)
    assert snap.fraction == pytest.approx(complete.fraction)


def test_done_never_exceeds_total() -> None:
    totals = announced()
    snap = snapshot({b"page_contents": 17, b"pages": 21}, totals, elapsed_s=5, limits=LIMITS)
    assert snap.counts["exports"].text() == "17/17"
    assert snap.counts["pages"].text() == "21/21"
    assert snap.fraction is not None
    assert snap.fraction <= 1.0


def test_a_synced_table_replaces_its_row_estimate() -> None:
    totals = announced(docs=1, listed=1)
    totals.table_synced("d0", "t0", 0)  # unchanged: no row was read
    totals.apply({"event": "table", "doc": "d0", "table": "t0", "rows": 500})  # late: ignored
    snap = snapshot({b"rows": 200}, totals, elapsed_s=5, limits=LIMITS)
    assert snap.counts["rows"].text() == "200/500"


def test_time_left_is_at_least_what_the_rate_limits_allow() -> None:
    totals = announced(docs=1, listed=1, tables=False)
    snap = snapshot({}, totals, elapsed_s=1, limits=LIMITS)
    assert snap.eta_s == pytest.approx(8 * 6 / 10)  # 8 exports at 10 per 6 s
    slow = snapshot({}, totals, elapsed_s=1, limits={"read": 100, "write": 5})
    assert slow.eta_s == pytest.approx(8 * 6 / 5)


def test_fraction_and_time_left_agree() -> None:
    totals = announced(docs=1, listed=1, tables=False)
    first = snapshot({b"page_contents": 2}, totals, elapsed_s=30, limits=LIMITS)
    later = snapshot({b"page_contents": 6}, totals, elapsed_s=40, limits=LIMITS)
    done = snapshot({b"page_contents": 8}, totals, elapsed_s=50, limits=LIMITS)
    assert first.fraction == pytest.approx(0.25)
    assert first.fraction < later.fraction < done.fraction == 1.0
    assert first.eta_s > later.eta_s > done.eta_s == 0
    assert "25%" in describe(first)
    assert "about" in describe(first)
    assert "100%" in describe(done)
    assert "left" not in describe(done)


def test_pacing_off_uses_the_pace_seen() -> None:
    totals = announced(docs=1, listed=1, tables=False)
    snap = snapshot({b"page_contents": 4}, totals, elapsed_s=20, limits={"read": 0, "write": 0})
    assert snap.eta_s == pytest.approx(20)
