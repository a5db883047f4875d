"""`coda-backup --config FILE` and the user's default config file, through the real
console script against the fake Coda API."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import TOKEN, clean_env, console_script

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]


def coda_backup(
    *args: str, home: Path, token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    """coda-backup with exactly these flags (no --output added), its user config folder
    under `home` so the machine's own file never counts."""
    env = clean_env(XDG_CONFIG_HOME=str(home / "xdg"), HOME=str(home))
    if token:
        env["CODA_API_TOKEN"] = token
    return subprocess.run(
        [console_script("coda-backup"), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def manifest_of_latest(output: Path) -> dict[str, t.Any]:
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    return json.loads((output / latest / "manifest.json").read_text(encoding="utf-8"))


def test_a_config_file_sets_the_flags_and_flags_win(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    folder = tmp_path / "conf"
    folder.mkdir()
    config = folder / "backup.toml"
    config.write_text(
        f'api_url = "{fake.url}"\noutput = "from-config"\nno_views = true\nhtml_pages = true\n',
        encoding="utf-8",
    )
    result = coda_backup("--config", str(config), home=tmp_path)
    assert result.returncode in (0, 3), result.stderr
    output = folder / "from-config"  # relative to the file's folder
    tables = [tb for doc in manifest_of_latest(output)["docs"] for tb in doc["tables"]]
    assert tables
    assert {tb["tableType"] for tb in tables} == {"table"}  # no_views
    latest = output / (output / "latest.txt").read_text(encoding="utf-8").strip()
    assert list((latest / "docs").rglob("*.html"))  # html_pages

    flag_output = tmp_path / "from-flag"
    again = coda_backup("--config", str(config), "--output", str(flag_output), home=tmp_path)
    assert again.returncode in (0, 3), again.stderr
    assert (flag_output / "latest.txt").is_file()
    assert len([p for p in output.iterdir() if p.is_dir() and not p.is_symlink()]) == 1


def test_the_user_config_file_is_read_by_default(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    user_file = tmp_path / "xdg" / "coda-backup" / "config.toml"
    user_file.parent.mkdir(parents=True)
    output = tmp_path / "backups"
    user_file.write_text(f'api_url = "{fake.url}"\noutput = "{output}"\n', encoding="utf-8")
    result = coda_backup(home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (output / "latest.txt").is_file()


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ('token = "secret-in-a-file"', ["token never goes into a config file", "token_file"]),
        ('api_token = "secret-in-a-file"', ["token never goes into a config file"]),
        ('worksapce_id = "ws-1"', ["unknown key 'worksapce_id'", "did you mean workspace_id?"]),
        ('max_retries = "many"', ["max_retries: invalid integer: 'many'"]),
        ('incremental = "yes"', ["incremental: must be true or false"]),
        ('log_level = "loud"', ["log_level: 'loud' is not one of"]),
        ("output = [1, 2]", ["output: must be a single value"]),
        ("output = ", ["not valid TOML"]),
    ],
)
def test_a_bad_config_file_is_one_line_and_exit_2(
    content: str, fragments: list[str], start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    config = tmp_path / "c.toml"
    config.write_text(f'api_url = "{fake.url}"\n{content}\n', encoding="utf-8")
    result = coda_backup("--config", str(config), "--output", str(tmp_path / "b"), home=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"coda-backup: error: {config}"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "secret-in-a-file" not in result.stderr
    assert not fake.log
    assert not (tmp_path / "b").exists()


def test_a_missing_config_file_named_by_the_flag_is_an_error(tmp_path: Path) -> None:
    result = coda_backup("--config", str(tmp_path / "nope.toml"), home=tmp_path)
    assert result.returncode == 2
    assert "cannot read the config file" in result.stderr
