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


def run_tap(
    config: dict[str, Any],
    tmp_path: Path,
    *,
    token: str | None,
    state: dict[str, Any] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    config_file = tmp_path / "tap-config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    args = [script("tap-coda"), "--config", str(config_file)]
    if state is not None:
        state_file = tmp_path / "tap-state.json"
        state_file.write_text(json.dumps(state), encoding="utf-8")
        args += ["--state", str(state_file)]
    return subprocess.run(
        args, capture_output=True, text=True, env=child_env(token), timeout=timeout, check=False
    )
