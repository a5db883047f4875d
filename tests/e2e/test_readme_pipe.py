"""The README's shell pipe, run as written (its text extracted from README.md) with bash,
against the fake Coda API: the first run works without a state file, the second is
incremental, and a failing run fails the pipe and keeps the state."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import typing as t
from pathlib import Path

import pytest

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import FAST_TAP_SETTINGS, REPO_ROOT, TOKEN, clean_env, console_script

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]


def readme_block(name: str) -> str:
    """The fenced block right after `<!-- pipe:NAME -->` in README.md."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- pipe:{re.escape(name)} -->\n```\w*\n(.*?)\n```", readme, re.S)
    assert found, f"README.md has no block marked pipe:{name}"
    return found.group(1)


def run_pipe(workdir: Path, token: str) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    bin_dir = str(Path(console_script("tap-coda")).parent)
    env = clean_env(CODA_API_TOKEN=token, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [bash, "-c", readme_block("run")],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def summary_of_latest(output: Path) -> dict[str, t.Any]:
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    return json.loads((output / latest / "summary.json").read_text(encoding="utf-8"))


def test_the_readme_pipe_works_on_the_first_and_the_next_run(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    tap_settings = json.loads(readme_block("tap.json"))
    target_settings = json.loads(readme_block("target.json"))
    # Only where the API is and how fast the fake lets it go differ from the README's file.
    tap_settings.update(FAST_TAP_SETTINGS, api_url=fake.url)
    (tmp_path / "tap.json").write_text(json.dumps(tap_settings), encoding="utf-8")
    (tmp_path / "target.json").write_text(json.dumps(target_settings), encoding="utf-8")
    output = tmp_path / target_settings["output_dir"]

    first = run_pipe(tmp_path, TOKEN)
    assert first.returncode == 0, first.stderr[-3000:]
    first_summary = summary_of_latest(output)
    assert first_summary["pages_exported"] > 0
    state = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert state.get("bookmarks"), state
    exports_before = fake.count(method="POST")

    second = run_pipe(tmp_path, TOKEN)
    assert second.returncode == 0, second.stderr[-3000:]
    second_summary = summary_of_latest(output)
    assert fake.count(method="POST") == exports_before  # nothing changed: no export at all
    assert second_summary["pages_exported"] == 0
    assert second_summary["pages_skipped_unchanged"] == first_summary["pages_exported"]
    assert second_summary["tables_skipped_unchanged"] == (
        first_summary["tables_exported"] + first_summary["views_exported"]
    )

    state_before = (tmp_path / "state.json").read_bytes()
    latest_before = (output / "latest.txt").read_text(encoding="utf-8")
    failed = run_pipe(tmp_path, "not-the-token")
    assert failed.returncode != 0  # pipefail: the tap's failure is the pipe's
    assert (tmp_path / "state.json").read_bytes() == state_before
    assert (output / "latest.txt").read_text(encoding="utf-8") == latest_before
