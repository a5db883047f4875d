"""One backup: check the token and the output folder, run `tap-coda | target-files`,
keep `<output>/state.json` for `--incremental`, print the summary, return the exit code."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from coda_backup import archive, damage, dryrun, guard, lock
from coda_backup.errors import EXIT_OK, EXIT_PARTIAL, FatalError
from coda_backup.pipeline import (
    Gate,
    PipelineError,
    PipelineResult,
    child_env,
    find_script,
    run_pipeline,
    write_private_json,
)
from coda_backup.progress import Progress
from coda_backup.report import print_summary, read_summary
from coda_backup.runs import new_run_id
from coda_backup.settings import resolve_token, tap_config, target_config
from coda_backup.state import load_state, read_latest, save_state
from coda_backup.totals import format_duration, limits_of

if t.TYPE_CHECKING:
    import argparse

    from coda_backup.progress import Console

LOGGER = logging.getLogger("coda-backup")

#: Temporary files of an earlier coda-backup killed at the wrong moment (its probe, or a
#: state.json being replaced). Both are written only under the output lock, which this
#: run holds when it removes them: any found is a dead run's, whatever its age.
STALE_TEMP_PATTERNS = (".coda-backup-probe-*", ".state-*.tmp")
#: The work folder of a run (`work_folder`), named by its process id.
WORK_PREFIX = ".coda-backup-work-"


def prepare_output(output: Path) -> None:
    """Create --output if needed and prove it is writable before anything starts."""
    probe = output / f".coda-backup-probe-{os.getpid()}"
    try:
        output.mkdir(mode=0o700, parents=True, exist_ok=True)  # backups are private data
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        msg = f"cannot write to the output folder {output}: {exc.strerror or exc}"
        raise FatalError(msg) from None
    remove_stale_temp_files(output)


def remove_if_empty(folders: list[Path]) -> None:
    """Remove folders this run created, deepest first, as long as they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours any more): keep it and its parents


@contextlib.contextmanager
def work_folder(output: Path) -> t.Iterator[Path]:
    """A private folder for the run's configs and bookmarks, inside the output folder (not
    /tmp): a run killed with SIGKILL leaves it where the next run removes it."""
    folder = output / f"{WORK_PREFIX}{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_temp_files(output: Path) -> None:
    # Under the output lock no other backup runs: every work folder found is a dead run's.
    for folder in output.glob(f"{WORK_PREFIX}*"):
        shutil.rmtree(folder, ignore_errors=True)
    for pattern in STALE_TEMP_PATTERNS:
        for path in output.glob(pattern):
            with contextlib.suppress(OSError):  # gone already, or not ours: harmless
                path.unlink()


def incremental_start(
    args: argparse.Namespace, output: Path, config: dict[str, t.Any]
) -> tuple[dict[str, t.Any] | None, str | None]:
    """The state to start from (None: a full run, said why) and, before carrying `latest`
    forward, the damage check: damaged objects go to the tap's `refetch` (fetched again)."""
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
    """One backup (or dry run); a real one holds the output folder's writer lock."""
    token_file = resolve_token(args)
    config = tap_config(args, token_file)
    output = args.output.expanduser().absolute()
    if args.dry_run:  # a dry run writes nothing: no folder, no probe, no lock
        return _dry_run(args, console, config, output)
    created = [folder for folder in (output, *output.parents) if not folder.exists()][::-1]
    try:
        with lock.output_lock(output, command="backup", wait=args.lock_wait):
            prepare_output(output)
            return _backup(args, console, config, output)
    except lock.LockBusy as exc:
        raise FatalError(str(exc)) from None
    except BaseException:
        # A failed first run (a wrong token) leaves no empty folder behind; the lock is
        # released by now, and nobody else can have waited on a folder this run made.
        if created:
            (output / lock.LOCK_FILE).unlink(missing_ok=True)
            remove_if_empty(created)
        raise


def _dry_run(
    args: argparse.Namespace, console: Console, config: dict[str, t.Any], output: Path
) -> int:
    singer_state, _ = incremental_start(args, output, config)
    with tempfile.TemporaryDirectory(prefix="coda-backup-") as tmp:  # 0700, removed after
        return dryrun.run(
            tap=find_script("tap-coda"),
            config=config,
            singer_state=singer_state,
            workdir=Path(tmp),
            env=child_env(args.log_level, with_token=True),
            console=console,
            debug=args.log_level == "debug",
        )


def _commands(
    workdir: Path,
    config: dict[str, t.Any],
    singer_state: dict[str, t.Any] | None,
    target: dict[str, t.Any],
) -> tuple[list[str], list[str]]:
    """`tap-coda --config … [--state …]` and `target-files --config …`, files in workdir."""
    tap = [
        find_script("tap-coda"),
        "--config",
        str(write_private_json(workdir / "tap.json", config)),
    ]
    if singer_state is not None:
        tap += ["--state", str(write_private_json(workdir / "state.json", singer_state))]
    target_file = write_private_json(workdir / "target.json", target)
    return tap, [find_script("target-files"), "--config", str(target_file)]


def _backup(
    args: argparse.Namespace, console: Console, config: dict[str, t.Any], output: Path
) -> int:
    singer_state, full_check_at = incremental_start(args, output, config)
    # The run's name is chosen here, under the output lock, so the bookmarks are saved
    # for the run that produced them whatever `latest` names at the end.
    run_id = new_run_id(output)
    # The tap logs at INFO at least, so its progress announcements come through; the
    # lines below the user's level are dropped as they arrive.
    run_level = min(args.log_level, "info", key=lambda name: logging.getLevelName(name.upper()))
    latest_before = read_latest(output)
    with work_folder(output) as work:
        target = target_config(args, output, run_id)
        tap_command, target_command = _commands(work, config, singer_state, target)
        started = time.monotonic()
        progress = Progress(console, limits=limits_of(config))
        try:
            result: PipelineResult | None = run_pipeline(
                tap_command,
                target_command,
                tap_env=child_env(run_level, with_token=True),
                target_env=child_env(args.log_level, with_token=False),
                show_from=args.log_level,
                console=console,
                progress=progress,
                debug=args.log_level == "debug",
                gate=_empty_run_gate(args, output, latest_before),
            )
        except PipelineError as exc:
            if read_latest(output) != run_id:
                raise
            # The target promoted this run, then failed (killed before its state): the run
            # is usable, its bookmarks are lost (the next --incremental run does more).
            LOGGER.warning("%s after promoting run %s; its state was not saved", exc, run_id)
            result = None
        progress.report_final()
    summary = _promoted(output, run_id, latest_before)
    if singer_state is None and not summary.get("failures") and not summary.get("skipped"):
        # A full run without a failure or skip carried nothing from latest: it wrote every
        # file and digested the bytes as they went out. The days to the next full check
        # count from now, so the first --incremental after it does not read every file
        # again (0.6 s at 1,000 pages) only to find what this run has just written.
        full_check_at = damage.checked_now()
    if result is not None:
        _keep_state(output, run_id, result, full_check_at)
    report_run(args, output, run_id, summary, elapsed=time.monotonic() - started)
    complete = result is not None and summary.get("status") == "complete"
    return EXIT_OK if complete else EXIT_PARTIAL


def _empty_run_gate(args: argparse.Namespace, output: Path, latest: str | None) -> Gate:
    """Refuse a run without docs over a `latest` with docs (see coda_backup.guard)."""
    previous = read_summary(output / latest) if latest else None
    latest_docs = (previous or {}).get("docs_processed")
    found = guard.describe_empty(
        workspace_id=args.workspace_id,
        doc_ids=args.doc_ids,
        include_shared=args.include_shared,
    )

    def gate(counts: t.Mapping[bytes, int]) -> str | None:
        docs_seen = counts.get(b"docs", 0)
        reason = guard.refusal(
            docs_seen=docs_seen,
            latest=latest,
            latest_docs=latest_docs if isinstance(latest_docs, int) else 0,
            allow_empty=args.allow_empty,
            found=found,
        )
        if reason is None and not docs_seen:
            LOGGER.warning("%s: this run backs up nothing", found)
        return reason

    return gate


def _promoted(output: Path, run_id: str, latest_before: str | None) -> dict[str, t.Any]:
    """The new run's summary; FatalError when the target promoted nothing."""
    summary = read_summary(output / run_id)
    if summary is None or read_latest(output) == latest_before:
        msg = f"target-files finished but promoted no new run {run_id} (latest is unchanged)"
        raise FatalError(msg)
    if read_latest(output) != run_id:
        LOGGER.warning("latest names %s, not this run %s", read_latest(output), run_id)
    return summary


def _keep_state(
    output: Path, run_id: str, result: PipelineResult, full_check_at: str | None
) -> None:
    """state.json for the next --incremental run, tied to this run."""
    if not result.final_state:
        LOGGER.warning("target-files printed no state: the next --incremental run is a full one")
        return
    try:
        extra = {"full_check_at": full_check_at} if full_check_at else None
        save_state(output, run_id, result.final_state, extra)
    except OSError as exc:  # the backup itself is in place: say so, do not fail it
        LOGGER.warning(
            "cannot write state.json (%s): the next --incremental run is a full one",
            exc.strerror or exc,
        )


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
        print_summary(summary, output / run_id, elapsed=format_duration(elapsed))
    if args.archive:
        try:
            packed = archive.make_archive(output, run_id, args.archive)
        except archive.ArchiveError as exc:
            msg = f"the backup {run_id} is in place, but its archive failed: {exc}"
            raise FatalError(msg) from None
        LOGGER.info("archive written and checked: %s", packed)
