"""Serve a fake Coda API by hand until Ctrl-C.

    python -m fakecoda --port 8765 --workspace demo --token T \
        [--rate-limits coda] [--latency 0.08] [--export-seconds 1.5] [--page-clamp N]
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable

from fakecoda.builders import (
    build_bench_workspace,
    build_demo_workspace,
    build_test_workspace,
)
from fakecoda.ratelimit import RateLimits
from fakecoda.server import FakeCoda, FakeConfig
from fakecoda.workspace import Workspace

logger = logging.getLogger("fakecoda")

#: Each builder takes `seed=`.
WORKSPACES: dict[str, Callable[..., Workspace]] = {
    "demo": build_demo_workspace,
    "test": build_test_workspace,
    "bench": build_bench_workspace,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakecoda", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--workspace", choices=sorted(WORKSPACES), default="demo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--token", default="fake-token-123")
    parser.add_argument(
        "--rate-limits",
        choices=["none", "coda"],
        default="none",
        help="coda: reads 100/6 s, writes 10/6 s, list docs 4/6 s",
    )
    parser.add_argument("--rate-scale", type=float, default=1.0, help="multiply every rate")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per response")
    parser.add_argument("--export-seconds", type=float, default=0.0)
    parser.add_argument("--link-ttl", type=float, default=300.0)
    parser.add_argument("--page-clamp", type=int, default=100, help="max items per list page")
    parser.add_argument("--row-clamp", type=int, default=500, help="max rows per page")
    parser.add_argument("--no-first-poll-404", action="store_true")
    parser.add_argument(
        "--mutation-seconds", type=float, default=0.0, help="how long a write waits to apply"
    )
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    started = time.monotonic()
    workspace = WORKSPACES[args.workspace](seed=args.seed)
    limits = RateLimits.coda().scaled(args.rate_scale) if args.rate_limits == "coda" else None
    config = FakeConfig(
        token=args.token,
        page_clamp=args.page_clamp,
        row_clamp=args.row_clamp,
        rate_limits=limits,
        latency=args.latency,
        export_seconds=args.export_seconds,
        first_poll_404=not args.no_first_poll_404,
        link_ttl=args.link_ttl,
        seed=args.seed,
        mutation_seconds=args.mutation_seconds,
    )
    with FakeCoda(workspace, config, host=args.host, port=args.port) as fake:
        if args.workspace == "bench":
            # Pre-render every rows page so the fake is never the benchmark's bottleneck.
            pages = fake.prewarm(("simpleWithArrays",), limit=args.row_clamp)
            logger.info("pre-rendered %d rows pages", pages)
        logger.info("workspace ready in %.1f s", time.monotonic() - started)
        print(f"Fake Coda API ({args.workspace} workspace) at {fake.url}", flush=True)
        stop = threading.Event()
        # Explicit handlers: a shell may start us with SIGINT ignored (background jobs).
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
        logger.info("stopping")


if __name__ == "__main__":
    main()
