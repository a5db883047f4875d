"""Every generated workspace, by name, and the builder they are made with.

- `build_test_workspace` (testdocs.py, with hostiledocs.py): rich and hostile, for tests;
- `build_named_workspace` (hostiledocs.py): a small one whose every name a test chooses;
- `build_demo_workspace` (demodocs.py): realistic, what `make demo` serves;
- `build_bench_workspace` (benchdocs.py): large, for `make bench`;
- `Builder`, the column formats (`TEXT`, `fmt`, `select`, `ref`) and the build clock
  (builder.py), for workspaces made by hand (assetdocs.py, typed.py, tests, benchmarks).

Everything is deterministic for a seed: ids, values and timestamps come from one
`random.Random(seed)` and the workspace's fake clock. `Workspace.tags` names the objects
tests care about (e.g. `ws.tagged("page.export_fails")`); the README lists them.
"""

from __future__ import annotations

from fakecoda.benchdocs import build_bench_workspace
from fakecoda.builder import (
    BUILD_START,
    ME,
    ME_EMAIL,
    TEST_EPOCH,
    TEXT,
    Builder,
    _workspace,
    fmt,
    ref,
    select,
)
from fakecoda.demodocs import build_demo_workspace
from fakecoda.hostiledocs import HOSTILE_PAGE_NAMES, HOSTILE_TEXT, build_named_workspace
from fakecoda.testdocs import PEOPLE, build_test_workspace

__all__ = [
    "BUILD_START",
    "HOSTILE_PAGE_NAMES",
    "HOSTILE_TEXT",
    "ME",
    "ME_EMAIL",
    "PEOPLE",
    "TEST_EPOCH",
    "TEXT",
    "Builder",
    "_workspace",
    "build_bench_workspace",
    "build_demo_workspace",
    "build_named_workspace",
    "build_test_workspace",
    "fmt",
    "ref",
    "select",
]
