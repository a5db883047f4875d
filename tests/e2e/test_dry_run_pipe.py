"""A dry run's output is not a backup: piped into target-files it must never become latest."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakecoda import build_demo_workspace
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_pipe

TOKEN = "fake-token-dry-run-pipe-4c"


@pytest.mark.parametrize("formats", [["markdown"], []], ids=["pages", "tables-only"])
def test_a_dry_run_piped_into_target_files_is_refused(
    start_fake: StartFake, tmp_path: Path, formats: list
) -> None:
    with start_fake(build_demo_workspace(), token=TOKEN) as fake:
        output = tmp_path / "backups"
        result = run_pipe(
            {**FAST_TAP, "api_url": fake.url, "dry_run": True, "page_formats": formats},
            {"output_dir": str(output)},
            tmp_path / "work",
            token=TOKEN,
            tee=True,
        )
        assert fake.count(method="POST") == 0
    # (the tap may see a broken pipe once the target has refused the input)
    assert result.tap_output is not None
    assert all(r["dry_run"] for r in result.tap_output.of("table_syncs"))
    assert result.target_returncode == 1
    errors = [line for line in result.target_stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "dry run" in errors[0]
    assert result.final_state is None
    assert not (output / "latest.txt").exists()
    assert (
        not [p for p in output.iterdir() if not p.name.startswith(".")] if output.exists() else True
    )
