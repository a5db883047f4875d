"""The config file's pure parts: where the user's file is, and flags over file values."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from coda_backup import configfile
from coda_backup.flags import build_parser

if t.TYPE_CHECKING:
    import argparse


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"XDG_CONFIG_HOME": "/x"}, "linux", Path("/x/coda-backup/config.toml")),
        ({}, "linux", Path.home() / ".config/coda-backup/config.toml"),
        ({}, "darwin", Path.home() / ".config/coda-backup/config.toml"),
        ({"APPDATA": "/appdata"}, "win32", Path("/appdata/coda-backup/config.toml")),
    ],
)
def test_default_path(env: dict[str, str], platform: str, expected: Path) -> None:
    assert configfile.default_path(env, platform) == expected


def parse(tmp_path: Path, content: str, *argv: str) -> argparse.Namespace:
    config = tmp_path / "c.toml"
    config.write_text(content, encoding="utf-8")
    return configfile.parse_args(build_parser(), ["--config", str(config), *argv])


def test_file_values_are_defaults_and_flags_win(tmp_path: Path) -> None:
    content = 'doc_id = ["a", "b"]\nmax_retries = 2\nworkspace_id = "ws-1"\nincremental = true\n'
    from_file = parse(tmp_path, content)
    assert from_file.doc_ids == ["a", "b"]
    assert from_file.max_retries == 2
    assert from_file.incremental is True
    flags = parse(tmp_path, content, "--doc-id", "c", "--max-retries", "5")
    assert flags.doc_ids == ["c"]  # replaced, not appended to the file's list
    assert flags.max_retries == 5
    assert flags.workspace_id == "ws-1"


def test_every_flag_but_help_version_and_config_is_a_key(tmp_path: Path) -> None:
    parser = build_parser()
    keys = set(parser.flags) - configfile.NOT_SETTINGS
    long_flags = {
        option[2:].replace("-", "_")
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    assert keys == long_flags - {"help", "version", "config"}


def test_paths_are_relative_to_the_files_folder(tmp_path: Path) -> None:
    args = parse(tmp_path, 'output = "b"\ntoken_file = "~/t"\n')
    assert args.output == tmp_path / "b"
    assert args.token_file == Path("~/t").expanduser()


def test_pass_through_flags_reach_the_tap_and_the_target(tmp_path: Path) -> None:
    from coda_backup.settings import tap_config, target_config

    args = build_parser().parse_args(["--skips-as-failures", "--verify-carried"])
    assert tap_config(args, None)["skips_as_failures"] is True
    assert target_config(args, tmp_path, "r")["verify_carried"] is True
    plain = build_parser().parse_args([])
    assert "skips_as_failures" not in tap_config(plain, None)
    assert "verify_carried" not in target_config(plain, tmp_path, "r")
