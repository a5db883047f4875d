"""`tap-coda | target-files` with each process's own peak resident memory, measured by
`peakrss.py` (their parent: see why there). Bounds on memory, never on time."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import child_env, script, tap_command


@dataclass
class Measured:
    peak_mb: dict[str, float]  # "tap", "target"
    returncodes: dict[str, int]
    tap_stderr: str
    target_stderr: str

    def check(self) -> Measured:
        assert self.returncodes == {"tap": 0, "target": 0}, (
            self.tap_stderr[-3000:] + self.target_stderr[-3000:]
        )
        return self


def measured_pipe(
    tap_config: dict[str, t.Any],
    target_config: dict[str, t.Any],
    workdir: Path,
    *,
    token: str,
    tap_env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Measured:
    """Run the real scripts joined by a pipe; configs and logs go to `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    target_cfg = workdir / "target.json"
    target_cfg.write_text(json.dumps(target_config), encoding="utf-8")
    spec = {
        "tap": tap_command(tap_config, workdir),
        "target": [script("target-files"), "--config", str(target_cfg)],
        "tap_env": child_env(token, **(tap_env or {})),
        "target_env": child_env(),
        "tap_err": str(workdir / "tap.err"),
        "target_err": str(workdir / "target.err"),
    }
    (workdir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    launcher = Path(__file__).with_name("peakrss.py")
    ran = subprocess.run(
        [sys.executable, str(launcher), str(workdir / "spec.json")],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
        env=child_env(),
    )
    result = json.loads(ran.stdout)
    return Measured(
        peak_mb={name: r["peak_mb"] for name, r in result.items()},
        returncodes={name: r["returncode"] for name, r in result.items()},
        tap_stderr=(workdir / "tap.err").read_text(encoding="utf-8", errors="replace"),
        target_stderr=(workdir / "target.err").read_text(encoding="utf-8", errors="replace"),
    )
