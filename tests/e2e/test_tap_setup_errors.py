"""A first run's mistakes in one line: a bad setting, a misspelt one, an unreachable API.

Through the real `tap-coda` script and through `coda-backup` (tap settings given in
CODA_BACKUP_TAP_SETTINGS, `--api-url`).
"""

from __future__ import annotations

import json
import subprocess
import typing as t

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import TOKEN, clean_env, console_script, run_coda_backup
from tests.helpers import FAST_TAP

if t.TYPE_CHECKING:
    from pathlib import Path

    from fakecoda import FakeCoda

#: The port nothing listens on (tcpmux; an unprivileged test cannot bind it).
UNREACHABLE_API = "http://127.0.0.1:1/apis/v1"


def run_tap(
    config: dict[str, t.Any], tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    config_file = tmp_path / "tap.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.run(
        [console_script("tap-coda"), "--config", str(config_file), *args],
        env=clean_env(CODA_API_TOKEN=TOKEN),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line or "Traceback" in line]


def test_a_bad_setting_is_one_line_naming_the_key(tmp_path: Path) -> None:
    proc = run_tap({"api_url": UNREACHABLE_API, "max_retries": "fast"}, tmp_path)
    assert proc.returncode == 1, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert line.endswith("tap-coda: max_retries: 'fast' is not of type 'integer'"), line
    assert "Config validation failed" not in proc.stderr


def test_a_value_outside_the_allowed_ones_names_them(tmp_path: Path) -> None:
    proc = run_tap({"api_url": UNREACHABLE_API, "value_format": "fancy"}, tmp_path)
    assert proc.returncode == 1, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "value_format: 'fancy' is not one of 'simpleWithArrays', 'simple', 'rich'" in line


def test_an_unknown_setting_is_warned_with_the_nearest_name(tmp_path: Path) -> None:
    # --discover reads the settings and lists the streams; it makes no request.
    proc = run_tap({"api_url": UNREACHABLE_API, "max_retrys": 3, "zzz": 1}, tmp_path, "--discover")
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "Unknown setting" in line]
    assert len(warnings) == 2, proc.stderr
    assert warnings[0].endswith(
        "Unknown setting 'max_retrys', ignored: did you mean 'max_retries'?"
    )
    assert warnings[1].endswith("Unknown setting 'zzz', ignored")
    assert json.loads(proc.stdout)["streams"]


def test_singer_sdk_built_in_settings_are_known(tmp_path: Path) -> None:
    proc = run_tap(
        {"api_url": UNREACHABLE_API, "flattening_enabled": False}, tmp_path, "--discover"
    )
    assert proc.returncode == 0, proc.stderr
    assert "Unknown setting" not in proc.stderr


def test_coda_backup_says_which_tap_setting_is_wrong(
    start_fake: t.Callable[..., FakeCoda], tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    settings = json.dumps({**FAST_TAP, "max_retries": "fast"})
    result = run_coda_backup(
        output=tmp_path / "b", fake=fake, env={"CODA_BACKUP_TAP_SETTINGS": settings}
    )
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        "coda-backup: error: tap-coda failed: max_retries: 'fast' is not of type 'integer'"
    ], result.stderr
    assert result.latest is None
    assert fake.count() == 0  # refused before any request


def test_coda_backup_against_a_refused_port_is_one_line(tmp_path: Path) -> None:
    result = run_coda_backup("--api-url", UNREACHABLE_API, output=tmp_path / "b")
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        "coda-backup: error: tap-coda failed: cannot reach 127.0.0.1:1: connection refused"
    ], result.stderr
    assert "urllib3" not in result.stderr
    assert result.latest is None


def test_a_host_that_does_not_resolve_is_one_line(tmp_path: Path) -> None:
    proc = run_tap({"api_url": "http://no-such-host.invalid/apis/v1"}, tmp_path)
    assert proc.returncode == 1, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert line.endswith("tap-coda: cannot reach no-such-host.invalid: name does not resolve")
