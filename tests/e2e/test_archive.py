"""Archives of real backups unpack to exactly the run folder, byte for byte; a run that
no longer matches its manifest gives no archive at all."""

from __future__ import annotations

import shutil
import tarfile
import typing as t
import zipfile
from pathlib import Path

import pytest

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import run_coda_backup
from tests.snap.runfolders import coda_backup, make_run

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def unpack(archive: Path, into: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)  # noqa: S202 - our own archive, in a test
    else:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(into, filter="data")


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_archive_after_a_backup_and_by_command_unpack_to_the_run(
    fmt: str, start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    output = tmp_path / "b"
    result = run_coda_backup("--archive", fmt, output=output, fake=fake)
    assert result.returncode == 0, result.stderr
    run = result.latest
    assert run is not None
    packed = output / f"{run}.{fmt}"
    assert packed.is_file()
    assert not list(output.glob(".*.tmp"))
    unpack(packed, tmp_path / "unpacked")
    assert sorted(p.name for p in (tmp_path / "unpacked").iterdir()) == [run]
    assert tree(tmp_path / "unpacked" / run) == tree(output / run)

    elsewhere = tmp_path / "elsewhere" / f"copy.{fmt}"
    elsewhere.parent.mkdir()
    ran = coda_backup(
        "archive", "--output", str(output), run, "--format", fmt, "--to", str(elsewhere)
    )
    assert ran.returncode == 0, ran.stderr
    unpack(elsewhere, tmp_path / "again")
    assert tree(tmp_path / "again" / run) == tree(output / run)


def test_a_damaged_run_gives_no_archive(tmp_path: Path) -> None:
    output = tmp_path / "b"
    run_dir = make_run(output, "2026-01-01T000000Z", {"docs/D__d/t.csv": b"_row_id\nr1\n"})
    (run_dir / "docs/D__d/t.csv").write_bytes(b"_row_id\nr2\n")  # same size, other bytes
    ran = coda_backup("archive", "--output", str(output))
    assert ran.returncode == 1
    assert "docs/D__d/t.csv: differs from the manifest's sha256" in ran.stderr
    assert sorted(p.name for p in output.iterdir()) == ["2026-01-01T000000Z", "latest.txt"]
    shutil.rmtree(run_dir)
    assert coda_backup("archive", "--output", str(output)).returncode == 2  # no such run
