"""Run one command and report its exact CPU time and peak RSS as JSON.

    python -m benchmarks.launch REPORT.json -- COMMAND [ARGS...]

Why a launcher: Linux keeps the peak RSS of the image a process had *before* `exec` in its
`ru_maxrss`. A child forked from the benchmark process (which holds the fake Coda API and
its workspace, hundreds of MB) would report at least that much. Forked from this small
launcher instead, the command's `ru_maxrss` is its own (or the launcher's ~10 MB, if
larger). stdin, stdout and stderr are passed through untouched; the exit code is the
command's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    report, sep, *command = argv
    if sep != "--" or not command:
        print(__doc__, file=sys.stderr)
        return 2
    child = subprocess.Popen(command)  # inherits stdin, stdout, stderr
    # Pass a termination on to the command rather than dying first and orphaning it.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda s, _f: child.send_signal(s))
    while True:
        try:
            _, status, usage = os.wait4(child.pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code
    Path(report).write_text(
        json.dumps(
            {
                "returncode": code,
                "cpu_user": usage.ru_utime,
                "cpu_sys": usage.ru_stime,
                "maxrss_kb": usage.ru_maxrss,
            }
        ),
        encoding="utf-8",
    )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
