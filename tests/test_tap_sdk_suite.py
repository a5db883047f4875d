"""singer-sdk's own tap test suite, run against the fake Coda API on loopback.

The suite builds its test class (and instantiates the tap, which sends no request) while
pytest collects; the fake starts only when the class's tests run, in `runner` below, which
points the shared config at it before the suite's one sync.
"""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from singer_sdk.testing.runners import TapTestRunner

from fakecoda import build_test_workspace
from tap_coda.tap import TapCoda
from tests.fakes import StartFake
from tests.helpers import FAST_TAP

TOKEN = "fake-token-sdk-suite-77"
#: Read by the suite when it runs; `api_url` is set once the fake listens.
CONFIG: dict[str, t.Any] = {"api_url": None, "api_token": TOKEN, "include_shared": True, **FAST_TAP}
#: The test workspace holds no images or attachments (tests/e2e/test_assets.py has them) and
#: no page export over 1 MiB, the only kind sent in parts (tests/e2e/test_large_exports.py).
SUITE = SuiteConfig(
    max_records_limit=40, ignore_no_records_for_streams=["assets", "page_content_parts"]
)

_SuiteBase = get_tap_test_class(TapCoda, config=CONFIG, suite_config=SUITE)


class TestTapCoda(_SuiteBase):  # type: ignore[misc, valid-type]
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, start_module_fake: StartFake) -> TapTestRunner:
        fake = start_module_fake(build_test_workspace(seed=1), token=TOKEN, page_clamp=5)
        CONFIG["api_url"] = fake.url
        runner = TapTestRunner(TapCoda, config=CONFIG, suite_config=SUITE, parse_env_config=True)
        runner.sync_all()
        return runner
