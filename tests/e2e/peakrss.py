"""`python peakrss.py SPEC.json`: run `tap | target` as a shell pipe would and print each
one's peak resident memory (MiB) and exit code as JSON.

A child's peak RSS (`wait4`) starts from its parent's resident size at the fork, so a test
process holding a large workspace would inflate both; this small launcher is their parent
instead. SPEC: {"tap": argv, "target": argv, "tap_env": {...}, "target_env": {...},
"tap_err": path, "target_err": path}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    tap_log, target_log = Path(spec["tap_err"]), Path(spec["target_err"])
    with tap_log.open("wb") as tap_err, target_log.open("wb") as target_err:
        tap = subprocess.Popen(
            spec["tap"], stdout=subprocess.PIPE, stderr=tap_err, env=spec["tap_env"]
        )
        target = subprocess.Popen(
            spec["target"],
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=target_err,
            env=spec["target_env"],
        )
        assert tap.stdout is not None
        tap.stdout.close()
        out = {}
        for name, proc in (("tap", tap), ("target", target)):
            _, status, usage = os.wait4(proc.pid, 0)
            out[name] = {
                "peak_mb": usage.ru_maxrss / 1024,  # KiB on Linux
                "returncode": os.waitstatus_to_exitcode(status),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
