"""A throwaway PostgreSQL server on 127.0.0.1 for the warehouse tests (issue #15).

Debian's `postgresql` package (installed by `.ci/run`) provides `initdb` and `pg_ctl`;
the server runs as an unprivileged user (the current one, or `postgres` when the tests
run as root, as CI does), listens on loopback only, and trusts local connections: it
holds only test data and lives as long as the test module (or `make postgres`).

    python -m tests.pgserver DIR [--port N]   # start one for hand use; prints its URL
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

USER = "tap"  # the database role the tests connect as
DATABASE = "warehouse"


def _bin(name: str) -> str | None:
    """`initdb`/`pg_ctl`/`psql` from PATH, else Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PgServer:
    data: Path
    port: int
    run_as: str | None  # a user to run the server as (when we are root), else None

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def target_config(self, **extra: t.Any) -> dict[str, t.Any]:
        """meltanolabs-target-postgres settings for this server."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": USER,
            "password": "unused",  # trust auth on loopback; the target wants a value
            "database": DATABASE,
            **extra,
        }

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> None:
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        assert initdb and pg_ctl
        self.data.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        done = self._run(
            initdb, "-D", str(self.data / "db"), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        done = self._run(
            pg_ctl, "-D", str(self.data / "db"), "-o", options, "-l", str(self.data / "log"),
            "-w", "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-500:]}")
        psql = _bin("psql")
        assert psql
        subprocess.run(
            [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres",
             "-c", f"CREATE DATABASE {DATABASE}"],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip

    def stop(self, *, remove: bool = True) -> None:
        pg_ctl = _bin("pg_ctl")
        if pg_ctl and (self.data / "db").is_dir():
            self._run(pg_ctl, "-D", str(self.data / "db"), "-m", "immediate", "stop")
        if remove:
            shutil.rmtree(self.data, ignore_errors=True)


def unavailable() -> str | None:
    """Why no server can be started here, or None."""
    missing = [n for n in ("initdb", "pg_ctl", "psql") if _bin(n) is None]
    if missing:
        names = ", ".join(missing)
        return f"PostgreSQL is not installed ({names} not found): apt-get install postgresql"
    if os.geteuid() == 0 and not _user_exists("postgres"):
        return "running as root and no 'postgres' user to run the server as"
    return None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def start_server(folder: Path | None = None, port: int | None = None) -> PgServer:
    data = folder or Path(tempfile.mkdtemp(prefix="tap-coda-pg-"))
    if os.geteuid() == 0:
        data.parent.chmod(data.parent.stat().st_mode | 0o011)  # let `postgres` reach it
    server = PgServer(data, port or free_port(), "postgres" if os.geteuid() == 0 else None)
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=54329)
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        raise SystemExit(reason)
    server = start_server(args.folder.resolve(), args.port)
    print(server.url)
    print(f"stop: pg_ctl -D {server.data / 'db'} stop")


if __name__ == "__main__":
    main()
