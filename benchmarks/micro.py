"""Per-operation costs that no end-to-end run shows apart: `python -m benchmarks.micro`.

- pacing: one `RateLimits.acquire` of a read and its slot's answer, this process alone
  (in memory) and shared between processes (a SQLite file, `tap_coda/slots.py`), with a
  budget large enough never to wait. A no-change incremental run makes about 70 reads, so the shared
  cost times 70 is what sharing adds to such a run.
- relay: coda-backup's copy of the tap's stdout to the target, per Singer line.

Wall and CPU time are both printed: on a busy machine the CPU time is the steadier one.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
import typing as t
from pathlib import Path

from coda_backup.pipeline import relay
from tap_coda.pacing import RateLimits, pacing_file


def timed(run: t.Callable[[], None], n: int) -> tuple[float, float]:
    """Seconds per operation, wall and CPU, of `run` doing `n` operations (best of 3)."""
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        best_wall = min(best_wall, (time.perf_counter() - wall) / n)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / n)
    return best_wall, best_cpu


def pacing(n: int) -> dict[str, tuple[float, float]]:
    budget = {"read": 10 * n}  # never waits: measures the bookkeeping only
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        shared_file = pacing_file(Path(folder), "http://127.0.0.1:1/apis/v1", "bench-token")
        for name, limits in (
            ("in memory", RateLimits(budget)),
            ("shared", RateLimits(budget, shared_file=shared_file)),
        ):

            def acquire_n(limits: RateLimits = limits) -> None:
                for _ in range(n):
                    slot = limits.acquire("read")
                    if slot is not None:  # a request's bookkeeping: its slot, then its answer
                        slot.answered()

            results[name] = timed(acquire_n, n)
    return results


def relay_cost(n: int) -> tuple[float, float]:
    row = {"id": "i-abc", "values": {"c-1": "hello", "c-2": 42, "c-3": ["a", "b"]}}
    message = {"type": "RECORD", "stream": "rows", "record": row}
    line = (json.dumps(message, separators=(",", ":")) + "\n").encode()  # as the tap writes
    data = line * n

    def run() -> None:
        source = io.BufferedReader(io.BytesIO(data), 1 << 16)
        with Path(os.devnull).open("wb", buffering=1 << 16) as sink:
            counts: dict[bytes, int] = {}
            relay(source, sink, counts)
            assert counts == {b"rows": n}

    return timed(run, n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.micro", description=__doc__)
    parser.add_argument("--acquires", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args(argv)
    for name, (wall, cpu) in pacing(args.acquires).items():
        print(f"pacing, {name:9}: {wall * 1e6:8.1f} µs wall, {cpu * 1e6:8.1f} µs CPU per read")
        if name == "shared":
            print(f"  x 70 reads (a no-change incremental): {wall * 70 * 1e3:.1f} ms wall")
    wall, cpu = relay_cost(args.lines)
    print(f"relay: {wall * 1e6:.2f} µs wall, {cpu * 1e6:.2f} µs CPU per line")


if __name__ == "__main__":
    main()
