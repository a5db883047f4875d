"""ReadAhead: a window of docs read ahead of the sync; listings replayed as they went."""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import Future

import pytest

from tap_coda.readahead import Listing, ReadAhead, Submit, window_end


def test_the_window_is_the_doc_reached_and_window_more() -> None:
    assert [window_end(p, 3, 10) for p in (-1, 0, 1, 5, 8, 9)] == [3, 4, 5, 9, 10, 10]
    assert window_end(-1, 3, 2) == 2  # fewer docs than the window


def test_a_listing_that_breaks_off_replays_what_it_had_then_its_error() -> None:
    def pages() -> t.Iterator[dict[str, t.Any]]:
        yield {"id": "a"}
        yield {"id": "b"}
        raise ConnectionError("page 3 failed")

    listing = Listing.of(pages())
    assert [r["id"] for r in listing.records] == ["a", "b"]
    seen = []
    with pytest.raises(ConnectionError, match="page 3"):
        for record in listing.replay():
            seen.append(record["id"])
    assert seen == ["a", "b"]  # handed over before the error, as a live listing would
    assert list(Listing.of(iter([{"id": "x"}])).replay()) == [{"id": "x"}]


class Reads:
    """A reader that records which docs it was asked for, and when."""

    def __init__(self) -> None:
        self.docs: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, doc_id: str, submit: Submit) -> Future[str]:
        with self.lock:
            self.docs.append(doc_id)
        return submit(str.upper, doc_id)


def test_docs_are_read_a_window_ahead_of_the_doc_taken() -> None:
    doc_ids = [f"d{i}" for i in range(8)]
    ahead = ReadAhead(workers=2, window=2)
    formulas, sharing = Reads(), Reads()
    ahead.add("formulas", formulas)
    ahead.add("sharing", sharing)
    ahead.once(("folders",), lambda: "all folders")
    try:
        ahead.start(doc_ids)
        assert formulas.docs == sharing.docs == ["d0", "d1"]
        for position, doc_id in enumerate(doc_ids):
            assert ahead.take("formulas", doc_id).result() == doc_id.upper()
            # reaching a doc starts the doc `window` docs on, never more
            assert formulas.docs == doc_ids[: window_end(position, 2, len(doc_ids))]
            assert ahead.take("sharing", doc_id).result() == doc_id.upper()
        assert sharing.docs == doc_ids  # each doc read once, in order
        assert ahead.take("formulas", "d0") is None  # taken once: not held any more
        assert ahead.take("folders").result() == "all folders"
    finally:
        ahead.close()


def test_an_unregistered_stream_is_not_read_ahead() -> None:
    ahead = ReadAhead(workers=1)
    try:
        ahead.start(["d0"])
        assert ahead.take("permissions", "d0") is None
    finally:
        ahead.close()


def test_a_reader_of_window_0_reads_a_doc_from_when_the_sync_reaches_it() -> None:
    ahead = ReadAhead(workers=2, window=2)
    tables, logic = Reads(), Reads()
    ahead.add("tables", tables)
    ahead.add("formulas", logic, window=0)  # a full export run's doc logic
    try:
        ahead.start(["d0", "d1", "d2"])
        assert tables.docs == ["d0", "d1"] and logic.docs == []
        assert ahead.take("tables", "d0").result() == "D0"
        assert logic.docs == ["d0"]
        # reached by its own stream first: started then taken, never read twice
        assert ahead.take("formulas", "d1").result() == "D1"
        assert logic.docs == ["d0", "d1"]
        assert ahead.take("formulas", "d0").result() == "D0"
    finally:
        ahead.close()
