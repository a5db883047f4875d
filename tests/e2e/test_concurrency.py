"""Concurrency changes when requests are sent, never what is emitted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakecoda import FakeCoda, build_test_workspace
from tap_coda.tap import DEFAULT_CONCURRENCY
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_tap

TOKEN = "fake-token-concurrency-31"


CLOCK_KEYS = {"time_extracted", "full_synced_at", "replication_key_signpost"}


def without_clock(value: Any) -> Any:
    """The message minus what only says when it was made."""
    if isinstance(value, dict):
        return {k: without_clock(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [without_clock(v) for v in value]
    return value


def normalized_stdout(fake: FakeCoda, tmp_path: Path, concurrency: int) -> list[str]:
    config = {
        "api_url": fake.url,
        **FAST_TAP,
        "include_shared": True,
        "page_formats": ["markdown", "html"],
        "max_concurrency": concurrency,
    }
    result = run_tap(config, tmp_path, token=TOKEN)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = []
    for line in result.stdout.splitlines():
        message = json.loads(line)
        lines.append(json.dumps(without_clock(message), sort_keys=True))
    return lines


def test_concurrent_run_emits_exactly_what_a_sequential_run_emits(
    start_fake: StartFake, tmp_path: Path
) -> None:
    with start_fake(build_test_workspace(seed=3), token=TOKEN, page_clamp=3) as fake:
        sequential = (
            normalized_stdout(fake, tmp_path / "one", 1)
            if (tmp_path / "one").mkdir() is None
            else []
        )
        concurrent = (
            normalized_stdout(fake, tmp_path / "many", DEFAULT_CONCURRENCY)
            if (tmp_path / "many").mkdir() is None
            else []
        )
        exports = fake.count(method="POST")
    assert sequential and exports > 0
    assert concurrent == sequential
