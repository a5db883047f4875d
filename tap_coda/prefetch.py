"""Pages of a listing back to back: the next one is asked for while this one is handled.

A table's rows come in pages linked by `nextPageToken`, so they cannot be read in
parallel; read one after the other by the sync, the request for page n + 1 left only when
the last row of page n had been turned into a RECORD (17 % of a 1,000,000-row table's
wall was that gap, issue #17). `pages_ahead` sends the request for the next page on a
worker as soon as the current page's token is known, then hands the current page over:
one page ahead, never more (memory stays bounded), in order, through the same pacing
and retries as any request.
"""

from __future__ import annotations

import typing as t

from tap_coda.workers import WorkerPool

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_Page = t.TypeVar("_Page")


def pages_ahead(fetch: Callable[[], _Page], advance: Callable[[_Page], bool]) -> Iterator[_Page]:
    """Every page `fetch` returns, in order, each next one already requested.

    `advance(page)` moves the paginator past `page` and says whether another page follows;
    it runs on the caller's thread before the next `fetch` starts, so `fetch` reads a
    settled paginator. An error of a fetch is raised where that page would have been
    handed over: every earlier page has been handled by then, as without read-ahead.
    """
    pool = WorkerPool(max_workers=1, thread_name_prefix="rows-ahead")
    try:
        upcoming = pool.submit(fetch)
        while True:
            page = upcoming.result()
            more = advance(page)
            if more:
                upcoming = pool.submit(fetch)
            yield page
            if not more:
                return
    finally:
        # Left early (an error, a delta too long to keep): do not wait for a page nobody
        # will read; its request finishes on the worker and is dropped.
        pool.shutdown(wait=False, cancel_futures=True)
