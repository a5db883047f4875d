"""`coda-backup restore rows|pages|doc …`: a plan by default, nothing written without --apply.

Exit 0 when the plan (or, with --apply, every write) went through; 1 when the run cannot be
read, Coda refuses (a 403 is one line: the token needs write access) or a column does not
match; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import typing as t
from pathlib import Path

from coda_backup.errors import UsageError
from coda_backup.restore import commands
from coda_backup.restore.client import Client, RestoreError
from coda_backup.restore.pageplan import PageSelectionError
from coda_backup.restore.report import text_lines
from coda_backup.restore.rowplan import ColumnMismatchError
from coda_backup.restore.snapshot import Snapshot, SnapshotError, open_run
from coda_backup.settings import extra_tap_settings
from tap_coda.redaction import token_problem
from tap_coda.settings import TOKEN_ENV, Settings

EXIT_OK, EXIT_FATAL, EXIT_USAGE = 0, 1, 2
logger = logging.getLogger("coda-backup")

EPILOG = """examples:
  coda-backup restore rows --from ~/coda-backups --doc AbCDeFGH --table grid-pqRst-U
  coda-backup restore rows --from ~/coda-backups/2026-03-07T101530Z --doc AbCDeFGH \\
      --table grid-pqRst-U --apply
  coda-backup restore pages --from ~/coda-backups --doc AbCDeFGH --page "Launch Status" \\
      --recursive --to-doc IjKlMnOp --apply
  coda-backup restore doc --from ~/coda-backups --doc AbCDeFGH --name "Launch (restored)"

--from is a run folder, or a backup folder (its latest run). The token comes from
CODA_API_TOKEN or --token-file and needs write access for --apply. See docs/RESTORE.md.
"""


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--from", dest="source", required=True, metavar="RUN")
    sub.add_argument("--output", type=Path, help="backup folder, when --from is a run name")
    sub.add_argument("--doc", required=True, metavar="D", help="the saved doc (id or name)")
    sub.add_argument("--apply", action="store_true", help="write the plan (default: only show it)")
    sub.add_argument("--json", action="store_true", help="print the plan/report as one JSON object")
    sub.add_argument("--token-file", metavar="F")
    sub.add_argument("--api-url", metavar="URL")
    sub.add_argument("--log-level", default="INFO")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup restore",
        description="Put a backup back into Coda. Shows what would be written; --apply writes it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subs = parser.add_subparsers(dest="what", required=True)
    rows = subs.add_parser("rows", help="make a live table hold the saved rows again")
    _common(rows)
    rows.add_argument("--table", required=True, metavar="T", help="the saved table (id or name)")
    rows.add_argument("--to-doc", metavar="D2")
    rows.add_argument("--to-table", metavar="T2", help="another table: columns matched by name")
    rows.add_argument("--delete-added", action="store_true", help="delete rows added since")
    pages = subs.add_parser("pages", help="create saved pages again")
    _common(pages)
    pages.add_argument("--page", action="append", metavar="P", help="a page (repeatable)")
    pages.add_argument("--recursive", action="store_true", help="with its subpages")
    pages.add_argument("--to-doc", metavar="D2")
    pages.add_argument("--parent", metavar="P2", help="a live page to restore under")
    doc = subs.add_parser("doc", help="a new doc with the saved page tree")
    _common(doc)
    doc.add_argument("--name", required=True, metavar="NAME")
    doc.set_defaults(recursive=False)
    return parser


def _token(args: argparse.Namespace) -> str:
    token = _given_token(args)
    problem = token_problem(token)
    if problem:
        raise RestoreError(f"{problem}: check {TOKEN_ENV} or --token-file")
    return token


def _given_token(args: argparse.Namespace) -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    if not args.token_file:
        raise RestoreError(f"no Coda API token: set {TOKEN_ENV} or pass --token-file FILE")
    try:
        token = Path(args.token_file).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise RestoreError(f"cannot read the token file {args.token_file}: {reason}") from None
    if not token:
        raise RestoreError(f"the token file {args.token_file} is empty")
    return token


def _settings(args: argparse.Namespace) -> Settings:
    config: dict[str, t.Any] = extra_tap_settings()
    if args.api_url:
        config["api_url"] = args.api_url
    return Settings.from_config(config)


def _run(args: argparse.Namespace) -> dict[str, t.Any]:
    run = open_run(args.source, args.output.expanduser() if args.output else None)
    snapshot = Snapshot(run)
    client = Client(_settings(args), _token(args))
    ctx = commands.Context(snapshot, client, run.parent, args.apply)
    restore = {"rows": commands.restore_rows, "pages": commands.restore_pages}
    try:
        return restore.get(args.what, commands.restore_doc)(ctx, args)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("coda-backup: %(levelname)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(args.log_level.upper())
    logger.propagate = False
    try:
        out = _run(args)
    except UsageError as exc:
        sys.stderr.write(f"coda-backup restore: error: {exc}\n")
        return EXIT_USAGE
    except (RestoreError, SnapshotError, ColumnMismatchError, PageSelectionError) as exc:
        sys.stderr.write(f"coda-backup restore: error: {exc}\n")
        return EXIT_FATAL
    except KeyboardInterrupt:
        sys.stderr.write("coda-backup restore: interrupted; run it again to finish\n")
        return 130
    text = json.dumps(out, ensure_ascii=False) if args.json else "\n".join(text_lines(out))
    sys.stdout.write(text + "\n")
    return EXIT_OK
