"""A faithful fake of Coda's REST API v1 for tests, the demo and benchmarks.

See README.md beside this file for what it mimics (with NOTES.md references) and how to
run it by hand: `python -m fakecoda --workspace demo`.
"""

from fakecoda.builders import (
    build_bench_workspace,
    build_demo_workspace,
    build_named_workspace,
    build_test_workspace,
)
from fakecoda.faults import Fault
from fakecoda.ratelimit import Limit, RateLimits
from fakecoda.server import FakeCoda, FakeConfig, LogEntry
from fakecoda.workspace import Column, Doc, Page, Row, Table, Workspace

__all__ = [
    "Column",
    "Doc",
    "FakeCoda",
    "FakeConfig",
    "Fault",
    "Limit",
    "LogEntry",
    "Page",
    "RateLimits",
    "Row",
    "Table",
    "Workspace",
    "build_bench_workspace",
    "build_demo_workspace",
    "build_named_workspace",
    "build_test_workspace",
]
