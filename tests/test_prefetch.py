"""pages_ahead: pages in order, at most one requested ahead, errors where the page was."""

from __future__ import annotations

import threading

import pytest

from tap_coda.prefetch import pages_ahead


class Listing:
    """A paginated listing of `count` pages; records how far fetches ran ahead."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.token = 0  # the paginator: the page the next fetch asks for
        self.handed = 0  # pages the caller has received
        self.most_ahead = 0
        self.lock = threading.Lock()

    def fetch(self) -> int:
        with self.lock:
            self.most_ahead = max(self.most_ahead, self.token - self.handed)
        if self.token == self.fail_at:
            raise RuntimeError(f"page {self.token} failed")
        return self.token

    def advance(self, page: int) -> bool:
        self.token = page + 1
        return self.token < self.count


def test_pages_come_in_order_one_ahead_at_most() -> None:
    listing = Listing(7)
    seen = []
    for page in pages_ahead(listing.fetch, listing.advance):
        seen.append(page)
        with listing.lock:
            listing.handed += 1
    assert seen == list(range(listing.count))
    assert listing.most_ahead <= 1


def test_a_failed_page_is_raised_after_the_pages_before_it() -> None:
    listing = Listing(5, fail_at=3)
    seen = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        for page in pages_ahead(listing.fetch, listing.advance):
            seen.append(page)
    assert seen == [0, 1, 2]


def test_leaving_early_does_not_wait_for_the_page_ahead() -> None:
    release = threading.Event()

    def hanging_fetch() -> int:
        release.wait(30)  # the page ahead hangs until the test lets it go
        return 1

    fetches = iter([lambda: 0, hanging_fetch])

    def fetch() -> int:
        return next(fetches)()

    pages = pages_ahead(fetch, lambda page: True)
    assert next(pages) == 0
    closer = threading.Thread(target=pages.close)
    closer.start()
    closer.join(20)
    still_waiting = closer.is_alive()
    release.set()
    assert not still_waiting, "closing the listing waited for the page ahead"
