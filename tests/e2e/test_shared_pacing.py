"""Two `coda-backup` runs of one token, started a second apart, against Coda's limits.

Coda's budget is per user (100 reads per 6 s): two runs that each pace themselves alone
send twice that and get 429s. Shared pacing (the default) makes every tap-coda process of
the token pace against one window kept in a private file. Tables only (no page exports),
so each run is about 90 reads of the demo workspace and the pair takes seconds.
"""

from __future__ import annotations

import json
import stat
import subprocess
import time
import typing as t
from pathlib import Path

import pytest

from fakecoda import FakeCoda, RateLimits, build_demo_workspace
from tap_coda.pacing import pacing_file
from tests.e2e.backup_cli import TOKEN, clean_env, console_script
from tests.fakes import StartFake
from tests.helpers import FAST_TAP

#: Pacing on at Coda's numbers (the tap's defaults); fast retries and export polls.
PACED: dict[str, t.Any] = {
    key: value for key, value in FAST_TAP.items() if not key.startswith("rate_limit_")
} | {"page_formats": []}


def two_runs_a_second_apart(
    start_fake: StartFake, tmp_path: Path, *, shared: bool
) -> tuple[FakeCoda, list[tuple[int, str]]]:
    """Both runs' exit codes and stderr, and the fake that served them."""
    fake = start_fake(build_demo_workspace(), token=TOKEN, rate_limits=RateLimits.coda())
    settings = PACED | {"shared_pacing": shared, "pacing_dir": str(tmp_path / "pacing")}
    env = clean_env(CODA_API_TOKEN=TOKEN, CODA_BACKUP_TAP_SETTINGS=json.dumps(settings))
    procs = []
    for name in ("first", "second"):
        command = [console_script("coda-backup"), "--output", str(tmp_path / name)]
        procs.append(
            subprocess.Popen(
                [*command, "--api-url", fake.url],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        time.sleep(1)  # the second run starts a second after the first
    results = []
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert TOKEN not in stderr
        assert "Traceback" not in stderr, stderr
        results.append((proc.returncode, stderr))
    return fake, results


def test_two_runs_of_one_token_share_the_pacing_and_get_no_429(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake, results = two_runs_a_second_apart(start_fake, tmp_path, shared=True)
    for code, stderr in results:
        assert code == 0, stderr
    budget = RateLimits.coda().read
    assert budget is not None
    assert fake.count(rate_class="read") > budget.count  # more than one window's worth
    assert fake.count(status=429) == 0
    # one private file, named by a hash: the token is in no name and no content
    shared = pacing_file(tmp_path / "pacing", fake.url, TOKEN)
    assert shared.is_file()
    assert stat.S_IMODE((tmp_path / "pacing").stat().st_mode) == 0o700
    for path in (tmp_path / "pacing").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert TOKEN not in path.name
        assert TOKEN.encode() not in path.read_bytes()


@pytest.mark.parametrize("shared", [False], ids=["pacing-alone"])
def test_without_sharing_the_same_two_runs_get_429s(
    start_fake: StartFake, tmp_path: Path, shared: bool
) -> None:
    """The check above can fail: each run pacing alone overruns the user's budget (with
    the tests' quick retries a table may even run out of them: exit 3)."""
    fake, _ = two_runs_a_second_apart(start_fake, tmp_path, shared=shared)
    assert fake.count(status=429) > 0
    assert not (tmp_path / "pacing").exists()
