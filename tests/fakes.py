"""The one way tests start the fake Coda API: `Fakes.start`, behind the `start_fake` fixtures.

Every fake listens on 127.0.0.1 on a port the OS picks (port 0), so tests running in
parallel (pytest-xdist) never collide; a test that must serve a second workspace at the
same URL passes `port=earlier.port` while nothing else holds it.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Protocol

from fakecoda import FakeCoda, FakeConfig, Workspace, build_test_workspace


class StartFake(Protocol):
    """`start_fake(workspace=None, *, port=0, **FakeConfig fields) -> FakeCoda` (started)."""

    def __call__(
        self, workspace: Workspace | None = None, *, port: int = 0, **config: Any
    ) -> FakeCoda: ...


class Fakes:
    """Fakes started for one fixture scope; all stopped when it ends (`close`)."""

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults  # FakeConfig fields, e.g. a scope's token
        self._stack = ExitStack()

    def start(
        self, workspace: Workspace | None = None, *, port: int = 0, **config: Any
    ) -> FakeCoda:
        """A started fake serving `workspace` (default: the test workspace, seed 0) with
        `config` over this scope's defaults (FakeConfig's own, plus a scope's token)."""
        fake = FakeCoda(
            workspace if workspace is not None else build_test_workspace(seed=0),
            FakeConfig(**{**self.defaults, **config}),
            port=port,
        )
        return self._stack.enter_context(fake)

    def close(self) -> None:
        self._stack.close()
