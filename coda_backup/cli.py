"""coda-backup: one command that backs up a Coda account with `tap-coda | target-files`.

It turns flags into the tap's and the target's config, runs the real console scripts as
one pipeline, keeps `<output>/state.json` for `--incremental`, shows progress and a
summary, and maps the outcome to restic-like exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import signal
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from coda_backup import archive, damage, dryrun, lock, ping
from coda_backup.pipeline import (
    PipelineError,
    child_env,
    find_script,
    run_pipeline,
    write_private_json,
)
from coda_backup.progress import Console, Progress, format_elapsed
from coda_backup.report import print_summary, read_summary
from coda_backup.runs import new_run_id
from coda_backup.state import load_state, read_latest, save_state

LOGGER = logging.getLogger("coda-backup")

TOKEN_ENV = "CODA_API_TOKEN"  # noqa: S105 - a variable name, not a secret
#: Extra tap settings as a JSON object, merged under the flags (tests use it to make
#: exports fast; power users to tune pacing). It may not carry the token.
TAP_SETTINGS_ENV = "CODA_BACKUP_TAP_SETTINGS"
DEFAULT_OUTPUT = "coda-backups"

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

EPILOG = f"""\
token:
  The Coda API token is read from the environment variable {TOKEN_ENV}, then from
  --token-file. It is handed to tap-coda through its environment and is never written
  to any file or log.

exit codes:
  0  backup complete
  1  fatal: nothing usable was written (missing or wrong token, unwritable --output,
     a crash); one line on stderr says why
  2  usage error (unknown flag, bad value)
  3  backup written and promoted as `latest`, but some objects failed (summary.json)
  130/143  interrupted (Ctrl-C / SIGTERM): earlier runs and `latest` are untouched

snapshot commands (each has --help; they need no token):
  coda-backup verify [--output DIR] [RUN ...] [--all] [--json]   check runs against manifests
  coda-backup prune --output DIR --keep-daily 7 [--keep-…] [--dry-run]  thin out old runs
  coda-backup diff [--output DIR] [OLD [NEW]] [--json]            what changed between runs
  coda-backup archive [--output DIR] [RUN] [--format zip|tar.gz] [--to PATH]

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

environment:
  {TOKEN_ENV}             the API token
  {TAP_SETTINGS_ENV}   extra tap-coda settings as a JSON object, e.g.
                             '{{"export_timeout": 300, "rate_limit_reads": 50}}'
                             (flags win over it; it may not contain api_token)
"""


class FatalError(Exception):
    """Nothing usable can be produced; the message is the one line to show."""


class UsageError(Exception):
    """A bad value that argparse could not check (e.g. in an environment variable)."""


class Interrupted(Exception):  # noqa: N818 - it is a signal, not an error
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup",
        description="Back up a Coda account (docs, pages, tables, views, rows) to local "
        "files: pages as Markdown (or HTML), tables and views as CSV, metadata as JSON. "
        "Every run is a complete, dated folder; `latest` points at the newest.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
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
        "--verify-carried",
        action="store_true",
        help="with --incremental: check latest's files by full sha256 (not only size and "
        f"modification time; that happens every {damage.FULL_CHECK_DAYS} days anyway) before "
        "carrying them forward; damaged objects are fetched again",
    )
    add(
        "--archive",
        choices=["zip", "tar.gz"],
        help="after the backup, pack the new run into <output>/<run>.zip (or .tar.gz), "
        "checked against its manifest",
    )
    return parser


# -- settings ----------------------------------------------------------------------------


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
        "page_formats": ["markdown", "html"] if args.html_pages else None,
        "strict_latest": True if args.strict_latest else None,
        "max_retries": args.max_retries,
    }
    config.update({key: value for key, value in flags.items() if value is not None})
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
    path = args.token_file.expanduser().resolve()
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


def prepare_output(output: Path) -> Path:
    """Create --output if needed and prove it is writable before anything starts."""
    output = output.expanduser().absolute()
    probe = output / f".coda-backup-probe-{os.getpid()}"
    try:
        output.mkdir(mode=0o700, parents=True, exist_ok=True)  # backups are private data
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        msg = f"cannot write to the output folder {output}: {exc.strerror or exc}"
        raise FatalError(msg) from None
    remove_stale_temp_files(output)
    return output


#: Temporary files of an earlier coda-backup killed at the wrong moment (its probe, or a
#: state.json being replaced); younger ones may belong to a run still going.
STALE_TEMP_PATTERNS = (".coda-backup-probe-*", ".state-*.tmp")
STALE_TEMP_AGE_S = 60.0


def remove_stale_temp_files(output: Path) -> None:
    for pattern in STALE_TEMP_PATTERNS:
        for path in output.glob(pattern):
            try:
                if time.time() - path.lstat().st_mtime > STALE_TEMP_AGE_S:
                    path.unlink()
            except OSError:
                pass  # gone already, or not ours to remove: harmless


# -- running -----------------------------------------------------------------------------


def incremental_start(
    args: argparse.Namespace, output: Path, config: dict[str, t.Any]
) -> tuple[dict[str, t.Any] | None, str | None]:
    """The state to start from (None: a full run) and, before carrying `latest` forward,
    the damage check: damaged objects go to the tap's `refetch` (fetched again)."""
    if not args.incremental:
        return None, None
    loaded = load_state(output)
    if loaded.singer_state is None:
        outcome = "it would be a full run" if args.dry_run else "doing a full run"
        LOGGER.warning("--incremental: %s; %s", loaded.reason, outcome)
        return None, None
    LOGGER.info("%s", loaded.reason)
    latest = read_latest(output)
    if args.dry_run or latest is None:
        return loaded.singer_state, None
    refetch, full_check_at = damage.pre_run_check(
        output, latest, verify_carried=args.verify_carried
    )
    if refetch:
        config["refetch"] = refetch
    return loaded.singer_state, full_check_at


def backup(args: argparse.Namespace, console: Console) -> int:
    token_file = resolve_token(args)
    config = tap_config(args, token_file)
    # A dry run writes nothing, so it neither creates nor probes --output.
    output = args.output.expanduser().absolute() if args.dry_run else prepare_output(args.output)
    tap = find_script("tap-coda")
    debug = args.log_level == "debug"
    tap_env = child_env(args.log_level, with_token=True)
    target_env = child_env(args.log_level, with_token=False)

    singer_state, full_check_at = incremental_start(args, output, config)

    with tempfile.TemporaryDirectory(prefix="coda-backup-") as tmp:  # 0700, removed after
        workdir = Path(tmp)
        if args.dry_run:
            return dryrun.run(
                tap=tap,
                config=config,
                singer_state=singer_state,
                workdir=workdir,
                env=tap_env,
                console=console,
                debug=debug,
            )
        tap_command = [tap, "--config", str(write_private_json(workdir / "tap.json", config))]
        if singer_state is not None:
            state_in = write_private_json(workdir / "state.json", singer_state)
            tap_command += ["--state", str(state_in)]
        # The run's name is chosen here, under the output lock, so the bookmarks are saved
        # for the run that produced them whatever `latest` names at the end.
        run_id = new_run_id(output)
        target_config = {"output_dir": str(output), "private": True, "run_id": run_id}
        if args.verify_carried:
            target_config["verify_carried"] = True
        target_command = [
            find_script("target-files"),
            "--config",
            str(write_private_json(workdir / "target.json", target_config)),
        ]
        latest_before = read_latest(output)
        started = time.monotonic()
        result = run_pipeline(
            tap_command,
            target_command,
            tap_env=tap_env,
            target_env=target_env,
            console=console,
            progress=Progress(console),
            debug=debug,
        )

    run_dir = output / run_id
    summary = read_summary(run_dir)
    if summary is None or read_latest(output) == latest_before:
        msg = f"target-files finished but promoted no new run {run_id} (latest is unchanged)"
        raise FatalError(msg)
    if read_latest(output) != run_id:
        LOGGER.warning("latest names %s, not this run %s", read_latest(output), run_id)
    if result.final_state:
        try:
            extra = {"full_check_at": full_check_at} if full_check_at else None
            save_state(output, run_id, result.final_state, extra)
        except OSError as exc:  # the backup itself is in place: say so, do not fail it
            LOGGER.warning(
                "cannot write state.json (%s): the next --incremental run is a full one",
                exc.strerror or exc,
            )
    else:
        LOGGER.warning("target-files printed no state: the next --incremental run is a full one")
    report_run(args, output, run_id, summary, elapsed=time.monotonic() - started)
    return EXIT_OK if summary.get("status") == "complete" else EXIT_PARTIAL


def report_run(
    args: argparse.Namespace,
    output: Path,
    run_id: str,
    summary: dict[str, t.Any],
    *,
    elapsed: float,
) -> None:
    """The summary (as text, or one JSON object with --json), then --archive."""
    if args.json:  # for scripts: the run's summary as one JSON object, nothing else
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        print_summary(summary, output / run_id, elapsed=format_elapsed(elapsed))
    if args.archive:
        try:
            packed = archive.make_archive(output, run_id, args.archive)
        except archive.ArchiveError as exc:
            msg = f"the backup {run_id} is in place, but its archive failed: {exc}"
            raise FatalError(msg) from None
        LOGGER.info("archive written and checked: %s", packed)


def _install_signal_handlers() -> None:
    fired: list[int] = []

    def handler(signum: int, _frame: t.Any) -> None:
        if fired:
            return  # already stopping the children; a second Ctrl-C must not cut that short
        fired.append(signum)
        raise Interrupted(signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _setup_logging(level: str, console: Console) -> None:
    class ConsoleHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            console.line(f"coda-backup: {record.levelname.lower()}: {record.getMessage()}")

    handler = ConsoleHandler()
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(level.upper())
    LOGGER.propagate = False


#: `coda-backup <name> …`: the snapshot commands, each a module with its own `main(argv)`.
SUBCOMMANDS = {
    "archive": "coda_backup.archive",
    "verify": "coda_backup.verify",
    "prune": "coda_backup.prune",
    "diff": "coda_backup.diff",
}


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")  # Coda names are Unicode
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        command: t.Any = importlib.import_module(SUBCOMMANDS[argv[0]])
        return int(command.main(argv[1:]))
    args = build_parser().parse_args(argv)  # exits 2 on a usage error, as parsers do
    console = Console()
    _setup_logging(args.log_level, console)
    _install_signal_handlers()
    watched = args.ping_url if not args.dry_run else None
    ping.ping(watched, "start")
    code = _run(args, console)
    ping.ping(watched, str(code))
    return code


def _run(args: argparse.Namespace, console: Console) -> int:
    """The backup under the writer lock, its outcome as an exit code."""
    try:
        with contextlib.ExitStack() as stack:
            if not args.dry_run:  # a dry run writes nothing: it needs no writer lock
                output = args.output.expanduser().absolute()
                stack.enter_context(lock.output_lock(output, command="backup", wait=args.lock_wait))
            return backup(args, console)
    except UsageError as exc:
        console.line(f"coda-backup: error: {exc}")
        return EXIT_USAGE
    except (FatalError, PipelineError, lock.LockBusy) as exc:
        console.line(f"coda-backup: error: {exc}")
        return EXIT_FATAL
    except Interrupted as exc:
        console.line(
            f"coda-backup: interrupted ({exc}): tap-coda and target-files stopped; "
            "earlier runs and latest are untouched"
        )
        return 128 + exc.signum


if __name__ == "__main__":
    sys.exit(main())
