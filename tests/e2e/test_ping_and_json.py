"""Watching unattended runs: `--ping-url` (healthchecks.io style) against a tiny HTTP
server on 127.0.0.1, and `--json` printing the run's summary as one JSON object."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import typing as t
from pathlib import Path

import pytest

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import run_coda_backup

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]


@pytest.fixture
def monitor() -> t.Iterator[tuple[str, list[str]]]:
    """A monitor that records the paths it is pinged on; yields (its URL, the paths)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args: t.Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ping/check-1234", seen
    server.shutdown()
    server.server_close()


def test_pings_start_and_exit_code_and_json_summary(
    start_fake: StartFake, tmp_path: Path, monitor: tuple[str, list[str]]
) -> None:
    url, seen = monitor
    fake = start_fake(build_demo_workspace())
    result = run_coda_backup("--ping-url", url, "--json", output=tmp_path / "b", fake=fake)
    assert result.returncode == 0, result.stderr
    assert seen == ["/ping/check-1234/start", "/ping/check-1234/0"]
    printed = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert printed == result.summary()
    assert printed["run_id"] == result.latest

    wrong = run_coda_backup(
        "--ping-url", url, output=tmp_path / "c", fake=fake, token="wrong-token-0000"
    )
    assert wrong.returncode == 1
    assert seen[2:] == ["/ping/check-1234/start", "/ping/check-1234/1"]


def test_a_failing_ping_is_one_warning_and_changes_nothing(
    start_fake: StartFake, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = start_fake(build_demo_workspace())
    result = run_coda_backup(
        "--ping-url", f"http://127.0.0.1:{port}/x", output=tmp_path / "b", fake=fake
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "ping" in line]
    assert len(warnings) == 2, result.stderr  # start and end: one line each
    assert all("warning" in line and "failed" in line for line in warnings)
    assert "/x" not in result.stderr  # the check's URL is its secret: only the host shows
