"""Worker threads that leave SIGINT and SIGTERM to the main thread.

The kernel hands a signal sent to the process to any one of its threads that does not block
it, and Python runs the handler only on the main thread. If the signal lands on a worker
while the main thread waits on a lock (a future's result: an export that may take up to
`export_timeout`), nothing wakes the main thread, and the handler waits as long as it does
(tests/e2e/test_signals.py). So every thread is started with the two signals blocked, as
the threads of a C program are: they always reach the main thread, which is interrupted.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import typing as t
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})

_P = t.ParamSpec("_P")
_R = t.TypeVar("_R")


@contextlib.contextmanager
def stop_signals_held() -> Iterator[None]:
    """Block the stop signals in this thread for the block, so that a thread started in it
    inherits them blocked (from its first instruction: no window). One that arrives
    meanwhile stays pending for the process and reaches the main thread after."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks, nothing to do
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


class WorkerThread(threading.Thread):
    """A `threading.Thread` that never takes SIGINT or SIGTERM."""

    def start(self) -> None:
        with stop_signals_held():
            super().start()


class WorkerPool(ThreadPoolExecutor):
    """A `ThreadPoolExecutor` whose threads never take SIGINT or SIGTERM (it starts them
    inside `submit`, so that is where they are held)."""

    def submit(self, fn: t.Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_R]:
        with stop_signals_held():
            return super().submit(fn, *args, **kwargs)
