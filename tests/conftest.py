"""Fixtures shared by every test: the fake Coda API on loopback (started only when a test asks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from fakecoda.builders import build_test_workspace
from fakecoda.server import FakeCoda, FakeConfig
from fakecoda.workspace import Workspace


@pytest.fixture
def fake_coda() -> Iterator[FakeCoda]:
    """The test workspace (seed 0) behind the default config: token `fake-token-123`,
    3 items per list page, no rate limits, instant exports with a first-poll 404."""
    with FakeCoda(build_test_workspace(seed=0), FakeConfig()) as fake:
        yield fake


@pytest.fixture
def fake_coda_factory() -> Iterator[Callable[..., FakeCoda]]:
    """`fake_coda_factory(workspace=None, **config)`: more fakes, stopped after the test."""
    with ExitStack() as stack:

        def make(workspace: Workspace | None = None, **config: Any) -> FakeCoda:
            fake = FakeCoda(workspace or build_test_workspace(seed=0), FakeConfig(**config))
            return stack.enter_context(fake)

        yield make
