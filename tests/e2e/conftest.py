"""End-to-end fixtures: the fakes of `start_fake` take the token `backup_cli` runs with."""

from __future__ import annotations

import pytest

from tests.e2e.backup_cli import TOKEN


@pytest.fixture
def fake_token() -> str:
    return TOKEN
