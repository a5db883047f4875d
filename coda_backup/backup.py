"""One backup: check the token and the output folder, run `tap-coda | target-files`,
keep `<output>/state.json` for `--incremental`, print the summary, return the exit code."""

from __future__ import annotations

import logging
import os
import tempfile
import time
import typing as t
from pathlib import Path

from coda_backup import dryrun, guard
from coda_backup.errors import EXIT_OK, EXIT_PARTIAL, FatalError
from coda_backup.pipeline import (
    Gate,
    PipelineResult,
    child_env,
    find_script,
    run_pipeline,
    write_private_json,
)
from coda_backup.progress import Progress
from coda_backup.report import print_summary, read_summary
from coda_backup.settings import resolve_token, tap_config, target_config
from coda_backup.state import load_state, read_latest, save_state
from coda_backup.totals import format_duration, limits_of

if t.TYPE_CHECKING:
    import argparse

    from coda_backup.progress import Console

LOGGER = logging.getLogger("coda-backup")

#: Temporary files of an earlier coda-backup killed at the wrong moment (its probe, or a
#: state.json being replaced); younger ones may belong to a run still going.
STALE_TEMP_PATTERNS = (".coda-backup-probe-*", ".state-*.tmp")
STALE_TEMP_AGE_S = 60.0


def prepare_output(output: Path) -> tuple[Path, list[Path]]:
    """Create --output if needed and prove it is writable before anything starts.

    Returns the folder and the folders this call created (deepest last), so that a run
    that fails (a wrong token) can take them away again instead of leaving an empty
    output folder behind.
    """
    output = output.expanduser().absolute()
    created = [folder for folder in (output, *output.parents) if not folder.exists()][::-1]
    probe = output / f".coda-backup-probe-{os.getpid()}"
    try:
        output.mkdir(mode=0o700, parents=True, exist_ok=True)  # backups are private data
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        remove_if_empty(created)
        msg = f"cannot write to the output folder {output}: {exc.strerror or exc}"
        raise FatalError(msg) from None
    remove_stale_temp_files(output)
    return output, created


def remove_if_empty(folders: list[Path]) -> None:
    """Remove folders this run created, deepest first, as long as they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours any more): keep it and its parents


def remove_stale_temp_files(output: Path) -> None:
    for pattern in STALE_TEMP_PATTERNS:
        for path in output.glob(pattern):
            try:
                if time.time() - path.lstat().st_mtime > STALE_TEMP_AGE_S:
                    path.unlink()
            except OSError:
                pass  # gone already, or not ours to remove: harmless


def _input_state(args: argparse.Namespace, output: Path) -> dict[str, t.Any] | None:
    """The Singer state an --incremental run starts from (None: a full run, said why)."""
    if not args.incremental:
        return None
    loaded = load_state(output)
    if loaded.singer_state is None:
        outcome = "it would be a full run" if args.dry_run else "doing a full run"
        LOGGER.warning("--incremental: %s; %s", loaded.reason, outcome)
    else:
        LOGGER.info("%s", loaded.reason)
    return loaded.singer_state


def backup(args: argparse.Namespace, console: Console) -> int:
    token_file = resolve_token(args)
    config = tap_config(args, token_file)
    if args.dry_run:  # a dry run writes nothing, so it neither creates nor probes --output
        return _run(args, console, config, args.output.expanduser().absolute())
    output, created = prepare_output(args.output)
    try:
        return _run(args, console, config, output)
    except BaseException:
        remove_if_empty(created)  # a failed first run leaves no empty folder behind
        raise


def _run(args: argparse.Namespace, console: Console, config: dict[str, t.Any], output: Path) -> int:
    tap = find_script("tap-coda")
    debug = args.log_level == "debug"
    tap_env = child_env(args.log_level, with_token=True)
    # The real run's tap logs at INFO at least, so its progress announcements come
    # through; the lines below the user's level are dropped as they arrive.
    run_level = min(args.log_level, "info", key=lambda name: logging.getLevelName(name.upper()))
    singer_state = _input_state(args, output)

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
        target_command = [
            find_script("target-files"),
            "--config",
            str(write_private_json(workdir / "target.json", target_config(args, output))),
        ]
        latest_before = read_latest(output)
        started = time.monotonic()
        progress = Progress(console, limits=limits_of(config))
        result = run_pipeline(
            tap_command,
            target_command,
            tap_env=child_env(run_level, with_token=True),
            target_env=child_env(args.log_level, with_token=False),
            show_from=args.log_level,
            console=console,
            progress=progress,
            debug=debug,
            gate=_empty_run_gate(args, output, latest_before),
        )
        progress.report_final()
    return _finish(output, latest_before, result, elapsed=time.monotonic() - started)


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


def _finish(
    output: Path, latest_before: str | None, result: PipelineResult, *, elapsed: float
) -> int:
    """After a clean pipeline: keep the state of the promoted run, print the summary."""
    run_id = read_latest(output)
    if run_id is None or run_id == latest_before:
        msg = "target-files finished but promoted no new run (latest is unchanged)"
        raise FatalError(msg)
    run_dir = output / run_id
    summary = read_summary(run_dir)
    if summary is None:
        msg = f"the new run {run_dir} has no readable summary.json"
        raise FatalError(msg)
    if result.final_state:
        try:
            save_state(output, run_id, result.final_state)
        except OSError as exc:  # the backup itself is in place: say so, do not fail it
            LOGGER.warning(
                "cannot write state.json (%s): the next --incremental run is a full one",
                exc.strerror or exc,
            )
    else:
        LOGGER.warning("target-files printed no state: the next --incremental run is a full one")
    print_summary(summary, run_dir, elapsed=format_duration(elapsed))
    return EXIT_OK if summary.get("status") == "complete" else EXIT_PARTIAL
