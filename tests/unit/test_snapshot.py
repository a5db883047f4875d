"""Run folder lifecycle: names, locks, promotion, `latest`."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from target_files import fsutil
from target_files.snapshot import (
    PromotionError,
    RunFolder,
    latest_run_dir,
    remove_stale_partials,
    run_id_problem,
)

START = datetime.datetime(2026, 3, 7, 10, 15, 30, tzinfo=datetime.timezone.utc)
PERMS = fsutil.Perms(private=True, fsync=False)


def promoted(out: Path, run_id: str | None = None) -> RunFolder:
    run = RunFolder(out, run_id, START, PERMS)
    (run.partial / "manifest.json").write_text("{}", encoding="utf-8")
    run.promote()
    return run


def test_default_name_is_the_utc_start_and_made_unique(tmp_path: Path) -> None:
    first = promoted(tmp_path)
    second = promoted(tmp_path)
    third = RunFolder(tmp_path, None, START, PERMS)
    assert (first.run_id, second.run_id) == ("2026-03-07T101530Z", "2026-03-07T101530Z-2")
    assert third.run_id == "2026-03-07T101530Z-3"  # a partial folder holds its name too
    third.abandon()
    assert not third.partial.exists()


def test_promotion_points_latest_and_removes_the_lock(tmp_path: Path) -> None:
    run = promoted(tmp_path, "r1")
    assert (tmp_path / "latest").readlink() == Path("r1")
    assert (tmp_path / "latest.txt").read_text(encoding="utf-8") == "r1\n"
    assert not (tmp_path / "r1" / ".lock").exists()
    assert not (tmp_path / "r1" / ".staging").exists()
    assert latest_run_dir(tmp_path) == tmp_path / "r1"
    assert run.promoted


def test_a_live_partial_is_never_removed_a_dead_one_is(tmp_path: Path) -> None:
    live = RunFolder(tmp_path, "live", START, PERMS)  # holds its lock
    dead = tmp_path / ".partial-dead"
    dead.mkdir()
    (dead / ".lock").write_text("999999\n", encoding="utf-8")
    assert remove_stale_partials(tmp_path) == [".partial-dead"]
    assert live.partial.exists()
    live.abandon()


def test_promotion_never_overwrites(tmp_path: Path) -> None:
    run = RunFolder(tmp_path, "r1", START, PERMS)
    (tmp_path / "r1").mkdir()
    with pytest.raises(PromotionError, match="not overwriting"):
        run.promote()
    run.abandon()
    assert not (tmp_path / "latest.txt").exists()


def test_latest_must_name_a_run_inside_output_dir(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "latest.txt").write_text("../elsewhere\n", encoding="utf-8")
    assert latest_run_dir(out) is None


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "latest", "state.json", "CON"])
def test_run_id_must_be_a_plain_name(bad: str) -> None:
    assert run_id_problem(bad)


def test_run_id_may_be_any_plain_name() -> None:
    assert run_id_problem("2026-03-07T101530Z") is None
    assert run_id_problem("nightly 7") is None


def test_a_durable_run_is_flushed_once_before_its_rename_not_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With syncfs, files are not fsynced one by one; the run's file system is flushed
    once, while the run is still partial, so `latest` never names a run not on disk."""
    flushed: list[bool] = []
    out = tmp_path / "out"

    def syncfs(fd: int) -> int:
        flushed.append((out / ".partial-r1").is_dir() and not (out / "r1").exists())
        return 0

    monkeypatch.setattr(fsutil, "SYNCFS", syncfs)
    perms = fsutil.Perms(private=True, fsync=True)
    assert not perms.fsync_each
    run = RunFolder(out, "r1", START, perms)
    assert run.partial.name == ".partial-r1"
    run.promote()
    assert flushed == [True]
    assert (out / "latest.txt").read_text(encoding="utf-8") == "r1\n"


def test_a_run_that_cannot_be_flushed_is_not_promoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsutil, "SYNCFS", lambda fd: -1)
    run = RunFolder(tmp_path, "r1", START, fsutil.Perms(private=True, fsync=True))
    with pytest.raises(PromotionError, match="cannot flush"):
        run.promote()
    assert not (tmp_path / "r1").exists() and not (tmp_path / "latest.txt").exists()


def test_without_syncfs_every_file_is_fsynced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsutil, "SYNCFS", None)
    assert fsutil.Perms(fsync=True).fsync_each
    assert not fsutil.Perms(fsync=False).fsync_each
