"""Defaults for coda-backup's flags from a TOML file: `--config FILE`, else the user's file.

The user's file is `$XDG_CONFIG_HOME/coda-backup/config.toml` (`~/.config/…` when unset),
`%APPDATA%\\coda-backup\\config.toml` on Windows; a missing one is no error. Every flag can
be set there under its own name with `_` for `-` (`workspace_id = "ws-AbC123"`,
`no_views = true`, `doc_id = ["AbC", "DeF"]`); a flag given on the command line wins.
Relative paths are taken from the file's folder. The file may name a token file but never
hold the token: a `token`/`api_token` key is refused, as are unknown keys (naming the
nearest known one) and bad values, each with one line.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import typing as t
from pathlib import Path

from coda_backup.errors import UsageError
from coda_backup.pipeline import TOKEN_ENV

if t.TYPE_CHECKING:
    from coda_backup.flags import Flag, Parser

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

APP = "coda-backup"
FILE_NAME = "config.toml"
CONFIG_FLAG = "--config"
#: Flags that are not settings of a run.
NOT_SETTINGS = {"help", "version", "config"}
TOKEN_KEYS = {"token", "api_token", "coda_api_token"}


def default_path(env: t.Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The user's config file, where the platform keeps such files."""
    env = os.environ if env is None else env
    if (platform or sys.platform) == "win32":
        base = Path(env["APPDATA"]) if env.get("APPDATA") else Path.home() / "AppData/Roaming"
    elif env.get("XDG_CONFIG_HOME"):
        base = Path(env["XDG_CONFIG_HOME"])
    else:
        base = Path.home() / ".config"
    return base / APP / FILE_NAME


def read(path: Path) -> dict[str, t.Any]:
    try:
        with path.open("rb") as handle:
            settings: dict[str, t.Any] = tomllib.load(handle)
            return settings
    except OSError as exc:
        msg = f"cannot read the config file {path}: {exc.strerror or exc}"
        raise UsageError(msg) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise UsageError(msg) from None


def _convert(flag: Flag, value: t.Any, folder: Path) -> t.Any:
    """A config value as the flag would have produced it; raises ValueError saying why."""
    if flag.kind == "store_true":
        if not isinstance(value, bool):
            msg = f"must be true or false, not {value!r}"
            raise ValueError(msg)
        return value
    if flag.kind == "append":
        items = value if isinstance(value, list) else [value]
        return [_one(flag.action, item, folder) for item in items]
    return _one(flag.action, value, folder)


def _one(action: argparse.Action, value: t.Any, folder: Path) -> t.Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        msg = f"must be a single value like the flag's, not {value!r}"
        raise ValueError(msg)
    convert = action.type if callable(action.type) else str
    try:
        converted = convert(str(value))
    except argparse.ArgumentTypeError as exc:
        raise ValueError(str(exc)) from None
    if isinstance(converted, Path):
        converted = folder / converted.expanduser()  # absolute stays absolute
    if action.choices is not None and converted not in action.choices:
        msg = f"{value!r} is not one of {', '.join(map(str, action.choices))}"
        raise ValueError(msg)
    return converted


def defaults_from(
    data: t.Mapping[str, t.Any], keys: t.Mapping[str, Flag], path: Path
) -> dict[str, t.Any]:
    """The file's values by the flags' `dest`, checked; UsageError names the first problem."""
    values = {}
    for key, value in data.items():
        if key.lower() in TOKEN_KEYS:
            msg = (
                f"{path}: {key}: the token never goes into a config file; name a file "
                f"with token_file, or set {TOKEN_ENV}"
            )
            raise UsageError(msg)
        flag = keys.get(key) if key not in NOT_SETTINGS else None
        if flag is None:
            near = difflib.get_close_matches(key, list(keys), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            msg = f"{path}: unknown key {key!r}{hint}"
            raise UsageError(msg)
        try:
            values[flag.action.dest] = _convert(flag, value, path.parent)
        except ValueError as exc:
            msg = f"{path}: {key}: {exc}"
            raise UsageError(msg) from None
    return values


def parse_args(parser: Parser, argv: list[str]) -> argparse.Namespace:
    """Parse argv with the config file's values as defaults: flags win."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument(CONFIG_FLAG, type=Path)
    known, _ = pre.parse_known_args(argv)
    path: Path | None = known.config
    if path is None and (default := default_path()).is_file():
        path = default
    if path is None:
        return parser.parse_args(argv)
    keys = {key: flag for key, flag in parser.flags.items() if key not in NOT_SETTINGS}
    values = defaults_from(read(path.expanduser()), keys, path.expanduser().absolute())
    # argparse appends a repeated flag to its default: a list from the file would not be
    # replaced by the flags but extended. Those are filled in only when no flag gave any.
    lists = {flag.action.dest for flag in keys.values() if flag.kind == "append"}
    parser.set_defaults(**{k: v for k, v in values.items() if k not in lists})
    args = parser.parse_args(argv)
    for dest in lists & values.keys():
        if getattr(args, dest) is None:
            setattr(args, dest, values[dest])
    return args
