"""Small helpers shared by the end-to-end tests: run the real console scripts, read Singer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent

#: Tap settings that keep tests fast against the fake (no pacing, short waits).
FAST_TAP = {
    "export_poll_interval": 0.02,
    "backoff_base_seconds": 0.01,
    "rate_limit_reads": 0,
    "rate_limit_writes": 0,
    "rate_limit_list_docs": 0,
}


def script(name: str) -> str:
    """A console script of this project, from the venv running the tests."""
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def child_env(token: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_CODA_", "CODA_"))}
    if token is not None:
        env["CODA_API_TOKEN"] = token
    env.update(extra)
    return env


@dataclass
class SingerOutput:
    """The messages of one tap run, indexed by stream."""

    messages: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, stdout: str) -> SingerOutput:
        messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        out = cls(messages)
        for message in messages:
            if message["type"] == "RECORD":
                out.records.setdefault(message["stream"], []).append(message["record"])
            elif message["type"] == "STATE":
                out.states.append(message["value"])
        return out

    def of(self, stream: str) -> list[dict[str, Any]]:
        return self.records.get(stream, [])


def tap_command(
    config: dict[str, Any], workdir: Path, state: dict[str, Any] | None = None
) -> list[str]:
    """`tap-coda --config … [--state …]`, the files written into `workdir`."""
    config_file = workdir / "tap-config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    args = [script("tap-coda"), "--config", str(config_file)]
    if state is not None:
        state_file = workdir / "tap-state.json"
        state_file.write_text(json.dumps(state), encoding="utf-8")
        args += ["--state", str(state_file)]
    return args


def run_tap(
    config: dict[str, Any],
    tmp_path: Path,
    *,
    token: str | None,
    state: dict[str, Any] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    args = tap_command(config, tmp_path, state)
    return subprocess.run(
        args, capture_output=True, text=True, env=child_env(token), timeout=timeout, check=False
    )


@dataclass
class PipeResult:
    """One `tap-coda | [tee |] target-files` run: exit codes, logs, the target's STATE."""

    tap_returncode: int
    target_returncode: int
    tap_stderr: str
    target_stderr: str
    target_stdout: str
    #: what the tap wrote on the pipe, when the run was teed (else None)
    tap_output: SingerOutput | None = None

    @property
    def final_state(self) -> dict[str, Any] | None:
        """The last state the target printed (a target writes the bare state value, one
        JSON line, as Meltano expects): the next run's `--state`."""
        lines = [line for line in self.target_stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None

    def check(self) -> PipeResult:
        assert self.tap_returncode == 0, self.tap_stderr[-3000:]
        assert self.target_returncode == 0, self.target_stderr[-3000:]
        return self


def run_pipe(
    tap_config: dict[str, Any],
    target_config: dict[str, Any],
    workdir: Path,
    *,
    token: str,
    state: dict[str, Any] | None = None,
    tee: bool = False,
    timeout: float = 120,
) -> PipeResult:
    """`tap-coda --config … [--state …] | [tee tap.jsonl |] target-files --config …`.

    The real console scripts, joined by real OS pipes as a shell joins them (each reads
    the previous one's stdout file descriptor directly; this process only waits). The
    token reaches the tap through its environment only; the target never sees it.
    Configs, state and logs are written to `workdir`, which must not be the output dir.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    target_cfg = workdir / "target-config.json"
    target_cfg.write_text(json.dumps(target_config), encoding="utf-8")
    tap_args = tap_command(tap_config, workdir, state)
    tapped = workdir / "tap-output.jsonl"
    tap_log, target_log = workdir / "tap.stderr", workdir / "target.stderr"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tap_log.open("wb") as tap_err, target_log.open("wb") as target_err:
            tap = subprocess.Popen(
                tap_args, stdout=subprocess.PIPE, stderr=tap_err, env=child_env(token)
            )
            procs.append(tap)
            upstream = tap.stdout
            assert upstream is not None
            if tee:
                tee_proc = subprocess.Popen(
                    # -p: should the target stop early, tee keeps copying to the file
                    # (a plain tee dies with the pipe, possibly mid-line: the tap sends
                    # its RECORDs in 64 KiB writes).
                    ["tee", "-p", str(tapped)],
                    stdin=upstream,
                    stdout=subprocess.PIPE,
                )
                procs.append(tee_proc)
                upstream.close()  # only the tee holds the read end now
                upstream = tee_proc.stdout
                assert upstream is not None
            target = subprocess.Popen(
                [script("target-files"), "--config", str(target_cfg)],
                stdin=upstream,
                stdout=subprocess.PIPE,
                stderr=target_err,
                env=child_env(),
            )
            procs.append(target)
            upstream.close()  # the target holds it: the tap sees EPIPE if the target dies
            target_out, _ = target.communicate(timeout=timeout)
            for proc in procs:
                proc.wait(timeout=timeout)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return PipeResult(
        tap_returncode=tap.returncode,
        target_returncode=target.returncode,
        tap_stderr=tap_log.read_text(encoding="utf-8", errors="replace"),
        target_stderr=target_log.read_text(encoding="utf-8", errors="replace"),
        target_stdout=target_out.decode("utf-8"),
        tap_output=SingerOutput.parse(tapped.read_text(encoding="utf-8")) if tee else None,
    )


def viewer_files(run: Path) -> set[Path]:
    """The run's index.html and its views (`target_files.viewer`): files beside the backup
    itself, which tests of the backup tree leave to the viewer's own tests."""
    assert (run / "index.html").is_file(), run
    return {run / "index.html", *(p for p in (run / "viewer").rglob("*") if p.is_file())}


def run_tap_without(
    config: dict[str, Any], workdir: Path, stream: str, *, token: str
) -> subprocess.CompletedProcess[str]:
    """`tap-coda --discover`, then `tap-coda --catalog …` with `stream` deselected (every
    other stream selected), checked: what a target that leaves a stream out receives."""
    args = tap_command(config, workdir)
    env = child_env(token)
    found = subprocess.run(
        [*args, "--discover"], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] != stream
    catalog_file = workdir / "catalog.json"
    catalog_file.write_text(json.dumps(catalog), encoding="utf-8")
    done = subprocess.run(
        [*args, "--catalog", str(catalog_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done
