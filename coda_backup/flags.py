"""coda-backup's flags: the parser, its help text and the checks of flag values."""

from __future__ import annotations

import argparse
import importlib.metadata
import typing as t
from dataclasses import dataclass
from pathlib import Path

from coda_backup import damage, lock
from coda_backup.pipeline import TOKEN_ENV
from coda_backup.settings import TAP_SETTINGS_ENV

DEFAULT_OUTPUT = "coda-backups"
DISTRIBUTION = "tap-coda"  # the distribution that ships coda-backup
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

EPILOG = f"""\
token:
  The Coda API token is read from the environment variable {TOKEN_ENV}, then from
  --token-file. It is handed to tap-coda through its environment and is never written
  to any file or log.

exit codes:
  0  backup complete
  1  fatal: nothing usable was written (missing or wrong token, unwritable --output,
     a crash, a run that found no doc while `latest` has docs); one line says why
  2  usage error (unknown flag, bad value)
  3  backup written and promoted as `latest`, but some objects failed (summary.json)
  130/143  interrupted (Ctrl-C / SIGTERM): earlier runs and `latest` are untouched

snapshot commands (each has --help; they need no token):
  coda-backup verify [--output DIR] [RUN ...] [--all] [--json]   check runs against manifests
  coda-backup prune --output DIR --keep-daily 7 [--keep-…] [--dry-run]  thin out old runs
  coda-backup diff [--output DIR] [OLD [NEW]] [--json]            what changed between runs
  coda-backup archive [--output DIR] [RUN] [--format zip|tar.gz] [--to PATH]

putting a backup back into Coda (a plan; nothing is written without --apply):
  coda-backup restore rows|pages|doc --from RUN --doc D [...] [--apply]   (docs/RESTORE.md)

examples (Linux/macOS):
  export {TOKEN_ENV}=...              # from https://coda.io/account
  coda-backup --output ~/coda-backups
  coda-backup --output ~/coda-backups --incremental --html-pages
  coda-backup --token-file ~/.coda-token --doc-id AbCDeFGH --doc-id IjKlMnOp
  coda-backup --dry-run --incremental

examples (Windows PowerShell):
  $env:{TOKEN_ENV} = "..."
  coda-backup --output "$HOME\\coda-backups"
  coda-backup --output "$HOME\\coda-backups" --incremental --no-views
  coda-backup --token-file "$HOME\\coda-token.txt" --workspace-id ws-AbC123

config file:
  Defaults for every flag, in TOML, from --config FILE or else from
  $XDG_CONFIG_HOME/coda-backup/config.toml (~/.config/coda-backup/config.toml;
  %APPDATA%\\coda-backup\\config.toml on Windows). Keys are the flag names with _:
    output = "/backups/coda"          # relative paths start at the file's folder
    token_file = "coda-token.txt"     # a token file, never the token itself
    incremental = true
    doc_id = ["AbCDeFGH", "IjKlMnOp"]
  Flags on the command line win.

environment:
  {TOKEN_ENV}             the API token
  {TAP_SETTINGS_ENV}   extra tap-coda settings as a JSON object, e.g.
                             '{{"export_timeout": 300, "rate_limit_reads": 50}}'
                             (flags win over it; it may not contain api_token)
"""


# -- command line ------------------------------------------------------------------------


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        msg = f"invalid integer: {value!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if number < 0:
        msg = f"must be 0 or more, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def _api_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        msg = f"not an http(s) URL: {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return value.rstrip("/")


def _non_empty(value: str) -> str:
    if not value.strip():
        msg = "must not be empty"
        raise argparse.ArgumentTypeError(msg)
    return value.strip()


@dataclass(frozen=True)
class Flag:
    """One flag as the config file sees it: its action and how it takes values."""

    action: argparse.Action
    kind: str  # "store", "store_true", "append" or "version"


class Parser(argparse.ArgumentParser):
    """argparse, remembering each flag (keyed by its long name with `_`) for the config file."""

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.flags: dict[str, Flag] = {}

    def add_flag(self, *names: str, **kwargs: t.Any) -> argparse.Action:
        action = self.add_argument(*names, **kwargs)
        key = next(n for n in names if n.startswith("--"))[2:].replace("-", "_")
        self.flags[key] = Flag(action, str(kwargs.get("action", "store")))
        return action


def build_parser() -> Parser:
    parser = Parser(
        prog="coda-backup",
        description="Back up a Coda account (docs, pages, tables, views, rows) to local "
        "files: pages as Markdown (or HTML), tables and views as CSV, metadata as JSON. "
        "Every run is a complete, dated folder; `latest` points at the newest.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _what_flags(parser.add_flag)
    _how_flags(parser.add_flag)
    _safety_flags(parser.add_flag)
    _unattended_flags(parser.add_flag)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "unknown version"


def _what_flags(add: t.Callable[..., t.Any]) -> None:
    """Where the backup goes and what it holds."""
    add(
        "--output",
        metavar="DIR",
        type=Path,
        default=Path(DEFAULT_OUTPUT),
        help=f"root folder of all runs (default: ./{DEFAULT_OUTPUT})",
    )
    add(
        "--token-file",
        metavar="FILE",
        type=Path,
        help=f"file holding the API token (used when {TOKEN_ENV} is not set)",
    )
    add("--include-shared", action="store_true", help="also back up docs shared with you")
    add(
        "--workspace-id",
        metavar="WS",
        type=_non_empty,
        help="only docs of this workspace (e.g. ws-AbC123)",
    )
    add(
        "--doc-id",
        metavar="ID",
        action="append",
        type=_non_empty,
        dest="doc_ids",
        help="back up exactly this doc (repeatable); also reaches docs never opened",
    )
    add("--skip-hidden-pages", action="store_true", help="leave out hidden pages")
    add("--no-views", action="store_true", help="back up base tables only, no views")
    add("--html-pages", action="store_true", help="export pages as HTML as well as Markdown")
    add(
        "--no-assets",
        action="store_true",
        help="keep links to images and attachments instead of downloading them",
    )


def _how_flags(add: t.Callable[..., t.Any]) -> None:
    """How the run goes."""
    add("--version", action="version", version=f"%(prog)s {_version()}")
    add(
        "--config",
        metavar="FILE",
        type=Path,
        help="defaults for these flags from a TOML file (keys: flag names with _, e.g. "
        'workspace_id = "ws-AbC123"); default: the user\'s config file, see below',
    )
    add(
        "--incremental",
        action="store_true",
        help="re-export only what changed since `latest` (uses <output>/state.json; "
        "without a matching state it runs in full and says so)",
    )
    add(
        "--strict-latest",
        action="store_true",
        help="ask Coda for the latest doc version (X-Coda-Doc-Version: latest); "
        "docs not yet up to date are retried, then recorded as failures",
    )
    add(
        "--log-level",
        metavar="LEVEL",
        type=str.lower,
        choices=LOG_LEVELS,
        default="warning",
        help=f"{', '.join(LOG_LEVELS)} (default: warning); applies to tap-coda and "
        "target-files too",
    )
    add(
        "--max-retries",
        metavar="N",
        type=_non_negative_int,
        help="retries for rate limits, server errors and timeouts (tap default: 6)",
    )
    add(
        "--api-url",
        metavar="URL",
        type=_api_url,
        help="Coda API base URL (default: https://coda.io/apis/v1)",
    )
    add(
        "--dry-run",
        action="store_true",
        help="list the docs, pages and tables a run would back up (and, with "
        "--incremental, what it would skip); exports and writes nothing",
    )


def _unattended_flags(add: t.Callable[..., t.Any]) -> None:
    """For runs nobody watches: the writer lock, a monitor, output for scripts, an archive."""
    add(
        "--lock-wait",
        metavar="SECONDS",
        type=float,
        default=lock.DEFAULT_WAIT_S,
        help="how long to wait for another backup or prune of --output to finish "
        f"(default: {lock.DEFAULT_WAIT_S:g})",
    )
    add(
        "--ping-url",
        metavar="URL",
        type=_api_url,
        help="monitor to ping: URL/start when the run starts, URL/<exit code> when it ends "
        "(healthchecks.io style); a failed ping is a warning, never a failed backup",
    )
    add("--json", action="store_true", help="print the run's summary as one JSON object")
    add(
        "--archive",
        choices=["zip", "tar.gz"],
        help="after the backup, pack the new run into <output>/<run>.zip (or .tar.gz), "
        "checked against its manifest",
    )


def _safety_flags(add: t.Callable[..., t.Any]) -> None:
    """What counts as a failure, and what may replace `latest`."""
    add(
        "--skips-as-failures",
        action="store_true",
        help="count what Coda can never serve (unexportable pages, docs over the API size "
        "limit) as failures (exit 3) instead of skips",
    )
    add(
        "--verify-carried",
        action="store_true",
        help="with --incremental: check latest's files by full sha256 (not only size and "
        f"modification time; that happens every {damage.FULL_CHECK_DAYS} days anyway) before "
        "carrying them forward; damaged objects are fetched again",
    )
    add(
        "--rows-json",
        action="store_true",
        help="also write <table>.rows.jsonl beside each CSV: every row as Coda served it, "
        "values by column id (carried forward and merged like the CSV; restore reads it)",
    )
    add(
        "--allow-empty",
        action="store_true",
        help="let a run that finds no doc replace a `latest` that has docs (without it, "
        "such a run exits 1 and `latest` is kept: a typo in a filter loses nothing)",
    )
