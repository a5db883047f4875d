"""From coda-backup's options to tap-coda's and target-files' config, and the token check.

The token itself never passes through here: only whether it is at hand and which file
holds it. It reaches tap-coda through its environment or that file, nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import typing as t
from pathlib import Path

from coda_backup.errors import FatalError, UsageError
from coda_backup.pipeline import TOKEN_ENV

if t.TYPE_CHECKING:
    import argparse

LOGGER = logging.getLogger("coda-backup")

#: Extra tap settings as a JSON object, merged under the flags (tests use it to make
#: exports fast; power users to tune pacing). It may not carry the token.
TAP_SETTINGS_ENV = "CODA_BACKUP_TAP_SETTINGS"


def extra_tap_settings() -> dict[str, t.Any]:
    raw = os.environ.get(TAP_SETTINGS_ENV, "").strip()
    if not raw:
        return {}
    try:
        settings = json.loads(raw)
    except ValueError as exc:
        msg = f"{TAP_SETTINGS_ENV} is not valid JSON: {exc}"
        raise UsageError(msg) from None
    if not isinstance(settings, dict):
        msg = f"{TAP_SETTINGS_ENV} must be a JSON object"
        raise UsageError(msg)
    if "api_token" in settings:
        msg = f"{TAP_SETTINGS_ENV} may not contain api_token: use {TOKEN_ENV} or --token-file"
        raise UsageError(msg)
    return settings


def tap_config(args: argparse.Namespace, token_file: Path | None) -> dict[str, t.Any]:
    """The tap's config: only what the flags set, over CODA_BACKUP_TAP_SETTINGS."""
    config = extra_tap_settings()
    flags: dict[str, t.Any] = {
        "api_url": args.api_url,
        "api_token_file": str(token_file) if token_file else None,
        "include_shared": True if args.include_shared else None,
        "workspace_id": args.workspace_id,
        "doc_ids": args.doc_ids,
        "skip_hidden_pages": True if args.skip_hidden_pages else None,
        "include_views": False if args.no_views else None,
        "download_assets": False if args.no_assets else None,
        "page_formats": ["markdown", "html"] if args.html_pages else None,
        "strict_latest": True if args.strict_latest else None,
        "max_retries": args.max_retries,
        "skips_as_failures": True if args.skips_as_failures else None,
    }
    config.update({key: value for key, value in flags.items() if value is not None})
    return config


def target_config(args: argparse.Namespace, output: Path, run_id: str) -> dict[str, t.Any]:
    """target-files' config: the output folder, this run's name (chosen by coda-backup
    under the writer lock), private run folders, our pid (see `parent_pid`), and with
    --verify-carried a full sha256 check of every file carried forward from `latest`."""
    config: dict[str, t.Any] = {
        "output_dir": str(output),
        "private": True,
        "run_id": run_id,
        "parent_pid": os.getpid(),  # an orphaned target (we were killed) promotes nothing
    }
    if args.verify_carried:
        config["verify_carried"] = True
    if args.rows_json:
        config["rows_json"] = True
    return config


def resolve_token(args: argparse.Namespace) -> Path | None:
    """Check a token is at hand; return the token file to pass on (None: env is used).

    The token itself is never returned: it stays in the environment or in its file.
    """
    if os.environ.get(TOKEN_ENV, "").strip():
        if args.token_file:
            LOGGER.info("%s is set: it is used and --token-file is ignored", TOKEN_ENV)
        return None
    if not args.token_file:
        msg = f"no Coda API token: set {TOKEN_ENV} or pass --token-file FILE"
        raise FatalError(msg)
    path = Path(args.token_file).expanduser().resolve()
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        msg = f"cannot read the token file {args.token_file}: {reason}"
        raise FatalError(msg) from None
    if not content.strip():
        msg = f"the token file {args.token_file} is empty"
        raise FatalError(msg)
    return path
