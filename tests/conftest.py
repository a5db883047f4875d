"""Fixtures shared by every test: the fake Coda API on loopback, started only when a test
asks (`tests/fakes.py`), and the grouping that keeps shared fixtures built once under xdist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakecoda.server import FakeCoda, FakeConfig
from tests.fakes import Fakes, StartFake


@pytest.fixture
def fake_token() -> str:
    """The token the fakes of `start_fake` accept unless told otherwise (e2e overrides it)."""
    return FakeConfig.token


@pytest.fixture
def start_fake(fake_token: str) -> Iterator[StartFake]:
    """`start_fake(workspace=None, *, port=0, **FakeConfig fields)`: a started fake (default:
    the test workspace, seed 0, `fake_token`), stopped after the test."""
    fakes = Fakes(token=fake_token)
    yield fakes.start
    fakes.close()


@pytest.fixture(scope="module")
def start_module_fake() -> Iterator[StartFake]:
    """`start_fake` for module- and class-scoped fixtures: fakes stopped after the module.
    Pass `token=` explicitly (a module's fixtures cannot see a test's `fake_token`)."""
    fakes = Fakes()
    yield fakes.start
    fakes.close()


@pytest.fixture
def fake_coda(start_fake: StartFake) -> FakeCoda:
    """The test workspace (seed 0) behind the default config: token `fake-token-123`,
    3 items per list page, no rate limits, instant exports with a first-poll 404."""
    return start_fake(token=FakeConfig.token)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, tests that share a module- or class-scoped fixture of this
    suite (a backup run, a tap sync, singer-sdk's class-wide sync) go to one worker, so that
    fixture is built once instead of once per worker."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        for name in info.names_closure:
            defs = info.name2fixturedefs.get(name)
            if not defs:
                continue
            fixturedef = defs[-1]
            if fixturedef.scope in ("module", "class") and _is_ours(fixturedef):
                kind = pytest.Class if fixturedef.scope == "class" else pytest.Module
                scope_node = item.getparent(kind)
                group = scope_node.nodeid if scope_node is not None else item.nodeid
                item.add_marker(pytest.mark.xdist_group(group))
                break


def _is_ours(fixturedef: pytest.FixtureDef) -> bool:
    """A fixture defined in this suite or singer-sdk's test classes, not a cheap plugin one."""
    module = getattr(fixturedef.func, "__module__", "") or ""
    return module.startswith(("tests", "singer_sdk")) and fixturedef.argname not in (
        "start_module_fake",
    )
