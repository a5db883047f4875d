"""singer-sdk's own tap test suite, run against the fake Coda API on loopback.

The suite instantiates the tap while pytest collects, so the fake starts at import.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from fakecoda import FakeCoda, FakeConfig, build_test_workspace
from tap_coda.tap import TapCoda
from tests.helpers import FAST_TAP

TOKEN = "fake-token-sdk-suite-77"

_fake = FakeCoda(build_test_workspace(seed=1), FakeConfig(token=TOKEN, page_clamp=5))
_fake.__enter__()
atexit.register(_fake.__exit__, None, None, None)

TestTapCoda = get_tap_test_class(
    TapCoda,
    config={"api_url": _fake.url, "api_token": TOKEN, "include_shared": True, **FAST_TAP},
    suite_config=SuiteConfig(max_records_limit=40),
)
