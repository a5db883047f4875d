"""tap_coda.workers: threads and pools that leave SIGINT and SIGTERM to the main thread."""

from __future__ import annotations

import signal

import pytest

from tap_coda.workers import STOP_SIGNALS, WorkerPool, WorkerThread

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX only")


def blocked_here() -> set[signal.Signals]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_a_worker_thread_blocks_the_stop_signals_and_its_starter_does_not() -> None:
    before = blocked_here()
    seen: list[set[signal.Signals]] = []
    thread = WorkerThread(target=lambda: seen.append(blocked_here()))
    thread.start()
    thread.join()
    assert seen[0] >= STOP_SIGNALS
    assert blocked_here() == before  # the caller's mask is back as it was


def test_every_thread_of_a_worker_pool_blocks_the_stop_signals() -> None:
    before = blocked_here()
    with WorkerPool(max_workers=3) as pool:
        masks = list(pool.map(lambda _: blocked_here(), range(12)))
    assert all(mask >= STOP_SIGNALS for mask in masks)
    assert blocked_here() == before
