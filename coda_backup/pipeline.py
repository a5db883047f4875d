"""Runs the real console scripts: `tap-coda … | target-files …`, with coda-backup as the pipe.

coda-backup relays the tap's stdout to the target's stdin itself instead of letting the
shell connect them, for two reasons: it counts records per stream for the progress line
(a prefix test on bytes, no JSON parsing: rows tables flow through here), and it decides
when the target sees end-of-input. End-of-input is what makes the target finish and
promote the run, so a tap that failed must never cause it: the target is stopped instead.

Children run in their own session, so a Ctrl-C in the terminal reaches only coda-backup,
which then stops the tap and the target itself, in that order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from coda_backup.childlog import ChildLog
from tap_coda.workers import WorkerThread

if t.TYPE_CHECKING:
    from coda_backup.progress import Console, Progress

LOGGER = logging.getLogger("coda-backup")

#: Where the token is read from; the one place coda-backup spells it (the tap reads the
#: same variable, and `TAP_CODA_API_TOKEN` is singer-sdk's name for its `api_token`).
TOKEN_ENV = "CODA_API_TOKEN"  # noqa: S105 - a variable name, not a secret
TOKEN_ENVS = (TOKEN_ENV, "TAP_CODA_API_TOKEN")

#: singer-sdk writes compact JSON with the keys in this order (singerlib RecordMessage).
RECORD_PREFIX = b'{"type":"RECORD","stream":"'
STOP_GRACE_SECONDS = 10.0
PIPE_BUFFER = 1 << 16


class PipelineError(Exception):
    """A child failed; the message is the one line to show the user."""


def find_script(name: str) -> str:
    """A console script of this installation: next to the interpreter first, then PATH."""
    bin_dir = Path(sys.executable).parent  # not resolved: a venv's python is a symlink
    for candidate in (bin_dir / name, bin_dir / f"{name}.exe", bin_dir / "Scripts" / name):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    msg = f"cannot find the {name} command (looked next to {sys.executable} and on PATH)"
    raise PipelineError(msg)


def child_env(log_level: str, *, with_token: bool) -> dict[str, str]:
    """The children's environment: our log level; the token only for the process that needs it."""
    env = dict(os.environ)
    level = log_level.upper()
    env.update(
        LOGLEVEL=level,
        TAP_CODA_LOGLEVEL=level,
        TARGET_FILES_LOGLEVEL=level,
        PYTHONUTF8="1",  # Singer messages and logs are UTF-8 on every platform
        PYTHONIOENCODING="utf-8",
    )
    if not with_token:
        for name in TOKEN_ENVS:
            env.pop(name, None)
    return env


def write_private_json(path: Path, data: t.Any) -> Path:
    """A config file only its owner can read (0600 from creation, not chmod'ed later)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return path


def stop(process: subprocess.Popen[bytes] | None, *, release_output: bool = False) -> None:
    """Terminate a child and wait for it; kill it if it does not go in time.

    `release_output`: first let go of our end of its stdout (only when nobody reads it
    any more). A tap on SIGTERM writes its state (singer-sdk does): on a full pipe that
    nobody reads it would block until killed, STOP_GRACE_SECONDS later.
    """
    if process is None or process.poll() is not None:
        return
    if release_output:
        _close_quietly(process.stdout)
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def spawn(
    command: list[str], env: dict[str, str], *, stdin: int | None = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            bufsize=PIPE_BUFFER,
            start_new_session=True,  # a terminal Ctrl-C reaches only us; we stop the children
        )
    except OSError as exc:
        msg = f"cannot start {command[0]}: {exc.strerror or exc}"
        raise PipelineError(msg) from None


def relay(
    source: t.IO[bytes],
    sink: t.IO[bytes],
    counts: dict[bytes, int],
    on_table_sync: t.Callable[[bytes], None] | None = None,
) -> None:
    """Copy Singer lines from tap to target, counting RECORDs per stream, and hand each
    `table_syncs` RECORD (one per table: rare) to `on_table_sync`.

    The hot loop of a backup: one prefix test, one find, a dict update and a comparison
    per line.
    """
    prefix = RECORD_PREFIX
    start = len(prefix)
    get = counts.get
    write = sink.write
    for line in source:
        if line.startswith(prefix):
            stream = line[start : line.find(b'"', start)]
            counts[stream] = get(stream, 0) + 1
            if stream == b"table_syncs" and on_table_sync is not None:
                on_table_sync(line)
        write(line)


@dataclass
class PipelineResult:
    tap_returncode: int
    target_returncode: int
    #: the last STATE the target printed (it prints it only once the run is promoted)
    final_state: dict[str, t.Any] | None
    target_stdout: list[str] = field(default_factory=list)


#: Called once the tap has finished cleanly, before the target sees end-of-input (which
#: makes it promote the run): given the records counted per stream, it returns why the run
#: must not be promoted, or None to let it through.
Gate = t.Callable[[t.Mapping[bytes, int]], "str | None"]


class RunRefusedError(PipelineError):
    """The gate refused the run: the target was stopped before it could promote it."""


def run_pipeline(
    tap_command: list[str],
    target_command: list[str],
    *,
    tap_env: dict[str, str],
    target_env: dict[str, str],
    console: Console,
    progress: Progress,
    debug: bool,
    show_from: str = "debug",
    gate: Gate | None = None,
) -> PipelineResult:
    """Run tap | target to completion; raise PipelineError when either fails. Child log
    lines below `show_from` are not shown; the tap's progress lines feed `progress`."""
    tap_log = ChildLog(
        "tap-coda", console, debug=debug, show_from=show_from, on_progress=progress.tap_event
    )
    target_log = ChildLog("target-files", console, debug=debug, show_from=show_from)
    target_out: list[bytes] = []
    target = tap = None
    try:
        target = spawn(target_command, target_env, stdin=subprocess.PIPE)
        stdout_reader = _read_target(target, target_log, target_out)
        tap = spawn(tap_command, tap_env)
        assert tap.stderr is not None
        tap_log.start(tap.stderr)
        progress.start()
        target_gone = _relay_all(tap, target, progress)
        tap_returncode = tap.wait()
        tap_log.join()
        if not target_gone:
            _refuse_or_continue(
                tap_returncode,
                tap_log=tap_log,
                gate=gate,
                counts=progress.counts,
                target=target,
                target_log=target_log,
            )
        _close_quietly(target.stdin)  # end of input: the target finishes and promotes
        target_returncode = target.wait()
        stdout_reader.join(timeout=STOP_GRACE_SECONDS)
        target_log.join()
        if target_returncode != 0 or target_gone:
            raise PipelineError(f"target-files failed: {target_log.reason(target_returncode)}")
        if tap_returncode != 0:
            raise PipelineError(f"tap-coda failed: {tap_log.reason(tap_returncode)}")
    finally:
        progress.stop()
        stop(tap, release_output=True)
        stop(target)
        if target is not None:
            _close_quietly(target.stdin)
        if debug:
            tap_log.flush_held()
            target_log.flush_held()

    tap_log.flush_held()
    target_log.flush_held()
    return _result(tap_returncode, target_returncode, target_out)


def _refuse_or_continue(
    tap_returncode: int,
    *,
    tap_log: ChildLog,
    gate: Gate | None,
    counts: t.Mapping[bytes, int],
    target: subprocess.Popen[bytes],
    target_log: ChildLog,
) -> None:
    """Stop the target before end-of-input when the tap failed or the gate refuses the run:
    end-of-input would make the target promote it as `latest`."""
    if tap_returncode != 0:
        error: PipelineError = PipelineError(f"tap-coda failed: {tap_log.reason(tap_returncode)}")
    else:
        refusal = gate(counts) if gate is not None else None
        if refusal is None:
            return
        error = RunRefusedError(refusal)
    stop(target)
    _close_quietly(target.stdin)
    target_log.join()
    raise error


def _result(tap_returncode: int, target_returncode: int, out: list[bytes]) -> PipelineResult:
    lines = [raw.decode("utf-8", "replace").strip() for raw in out]
    lines = [line for line in lines if line]
    return PipelineResult(
        tap_returncode=tap_returncode,
        target_returncode=target_returncode,
        final_state=_last_json_object(lines),
        target_stdout=lines,
    )


def _read_target(
    target: subprocess.Popen[bytes], log: ChildLog, out: list[bytes]
) -> threading.Thread:
    """Pump the target's stderr to the console and collect its stdout (the state)."""
    assert target.stdout is not None and target.stderr is not None
    log.start(target.stderr)
    stdout = target.stdout
    reader = WorkerThread(target=lambda: out.extend(stdout), name="target-stdout", daemon=True)
    reader.start()
    return reader


def _relay_all(
    tap: subprocess.Popen[bytes], target: subprocess.Popen[bytes], progress: Progress
) -> bool:
    """Relay the tap's whole output; True if the target went away meanwhile."""
    assert tap.stdout is not None and target.stdin is not None
    try:
        relay(tap.stdout, target.stdin, progress.counts, progress.table_synced)
    except (BrokenPipeError, ConnectionResetError, OSError):
        stop(tap, release_output=True)  # the target died; the tap would block on a full pipe
        return True
    return False


def _close_quietly(stream: t.IO[bytes] | None) -> None:
    if stream is None:
        return
    # The reader may be gone: the bytes still buffered no longer matter then.
    with contextlib.suppress(BrokenPipeError, OSError, ValueError):
        stream.close()


def _last_json_object(lines: list[str]) -> dict[str, t.Any] | None:
    for line in reversed(lines):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def read_tap(
    command: list[str], env: dict[str, str], console: Console, *, debug: bool
) -> t.Iterator[bytes]:
    """Run the tap alone (discovery, dry run) and yield its stdout lines."""
    log = ChildLog("tap-coda", console, debug=debug)
    process = spawn(command, env)
    assert process.stdout is not None and process.stderr is not None
    log.start(process.stderr)
    try:
        yield from process.stdout
        returncode = process.wait()
        log.join()
    finally:
        stop(process)
    if returncode != 0:
        raise PipelineError(f"tap-coda failed: {log.reason(returncode)}")
    log.flush_held()
