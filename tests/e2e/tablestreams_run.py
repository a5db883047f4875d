"""Running `tap-coda` with `table_streams` against the fake: discovery, catalogs, syncs."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

from tests.helpers import FAST_TAP, SingerOutput, child_env, tap_command

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

#: Distinctive, so a leak into any output is easy to find.
TOKEN = "tok-tables-7f3a9c2e41"


def config(fake: FakeCoda, **settings: t.Any) -> dict[str, t.Any]:
    return {"api_url": fake.url, "table_streams": True, **FAST_TAP, **settings}


def discover(fake: FakeCoda, workdir: Path, **settings: t.Any) -> dict[str, t.Any]:
    args = [*tap_command(config(fake, **settings), workdir), "--discover"]
    done = subprocess.run(args, capture_output=True, text=True, env=child_env(TOKEN), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert TOKEN not in done.stdout + done.stderr
    catalog: dict[str, t.Any] = json.loads(done.stdout)
    return catalog


def root_metadata(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    return next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])


def select(catalog: dict[str, t.Any], wanted: t.Callable[[str], bool]) -> dict[str, t.Any]:
    """The catalog with exactly the streams `wanted` selected (all their properties)."""
    for entry in catalog["streams"]:
        root_metadata(entry)["selected"] = wanted(entry["stream"])
    return catalog


def table_stream_names(catalog: dict[str, t.Any]) -> set[str]:
    return {e["stream"] for e in catalog["streams"] if "coda-table-id" in root_metadata(e)}


def sync_args(
    fake: FakeCoda,
    workdir: Path,
    catalog: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    **settings: t.Any,
) -> list[str]:
    catalog_file = workdir / "catalog.json"
    catalog_file.write_text(json.dumps(catalog), encoding="utf-8")
    return [*tap_command(config(fake, **settings), workdir, state), "--catalog", str(catalog_file)]


def sync(
    fake: FakeCoda,
    workdir: Path,
    catalog: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    **settings: t.Any,
) -> tuple[SingerOutput, str]:
    args = sync_args(fake, workdir, catalog, state, **settings)
    done = subprocess.run(args, capture_output=True, text=True, env=child_env(TOKEN), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert TOKEN not in done.stdout + done.stderr
    return SingerOutput.parse(done.stdout), done.stderr
