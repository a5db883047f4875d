"""singer-sdk's bundled target tests (16 `.singer` inputs + CLI prints) against TargetFiles.

The inputs are generic Singer streams, so they exercise the `other/` path, schema updates,
special characters in stream names and the SDK's own error cases. Each test runs in its
own temporary working folder (the relative `output_dir` lands there).
"""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import get_target_test_class

from target_files.target import TargetFiles

_SuiteBase = get_target_test_class(
    TargetFiles,
    config={"output_dir": "sdk-suite-backups", "fsync": False},
)


class TestTargetFilesSDKSuite(_SuiteBase):  # type: ignore[misc, valid-type]
    @pytest.fixture
    def resource(self, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> t.Iterator[t.Any]:
        monkeypatch.chdir(tmp_path)
        yield tmp_path
