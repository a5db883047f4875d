"""Real Singer targets for the warehouse tests: where they are, and a tap | target pipe.

Each target lives in its own venv under `.venv-targets/` (`make targets`; their
singer-sdk or singer-python need not match the project's). A missing target or database
server skips a test with the reason, except under CI (`CI` set), where it fails: CI
installs them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from tests import pgserver
from tests.e2e.backup_cli import REPO_ROOT
from tests.helpers import child_env

TARGETS_VENV = REPO_ROOT / ".venv-targets"


def missing(reason: str) -> t.NoReturn:
    """Skip, or fail under CI (which must run every warehouse test)."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def target_bin(venv: str, executable: str) -> Path:
    path = TARGETS_VENV / venv / "bin" / executable
    if not path.is_file():
        missing(f"{executable} is not installed at {path}: run `make targets`")
    return path


def pipe(
    tap_args: list[str], target: Path, target_config: dict[str, t.Any], workdir: Path, token: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """`tap-coda … | target --config …` through a real OS pipe; the target's result and
    the tap's stderr."""
    config_file = workdir / f"{target.name}.json"
    config_file.write_text(json.dumps(target_config), encoding="utf-8")
    tap_err = workdir / "tap.stderr"
    with tap_err.open("w", encoding="utf-8") as err:
        tap = subprocess.Popen(tap_args, stdout=subprocess.PIPE, stderr=err, env=child_env(token))
        assert tap.stdout is not None
        done = subprocess.run(
            [str(target), "--config", str(config_file)],
            stdin=tap.stdout,
            capture_output=True,
            text=True,
            cwd=workdir,
            env=child_env(),
            timeout=300,
            check=False,
        )
        tap.stdout.close()
        tap_code = tap.wait(timeout=60)
    tap_stderr = tap_err.read_text(encoding="utf-8")
    assert done.returncode == 0, done.stderr[-4000:]  # a target that stops breaks the pipe
    assert tap_code == 0, tap_stderr[-3000:]
    assert token not in tap_stderr + done.stderr + done.stdout
    return done, tap_stderr


@pytest.fixture(scope="module")
def pg() -> Iterator[pgserver.PgServer]:
    reason = pgserver.unavailable()
    if reason:
        missing(reason)
    server = pgserver.start_server()
    yield server
    server.stop()


def query(pg: pgserver.PgServer, statement: t.Any, *args: t.Any) -> list[dict[str, t.Any]]:
    with psycopg.connect(pg.url, row_factory=dict_row) as conn:
        return conn.execute(statement, args or None).fetchall()


def table_rows(pg: pgserver.PgServer, schema: str, table: str) -> list[dict[str, t.Any]]:
    return query(pg, sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table)))
