"""The snapshot commands on real backups (`coda-backup` against the fake): verify of a
fresh backup and of damage in it, and a damaged file of `latest` never carried into the
next incremental run (target-files' digests and the tap's `refetch` setting at work)."""

from __future__ import annotations

import datetime
import json
import os
import stat
import typing as t
from pathlib import Path

from coda_backup import damage
from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import run_coda_backup
from tests.snap.runfolders import coda_backup

if t.TYPE_CHECKING:
    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]


def flip_byte_keep_mtime(path: Path) -> None:
    st = path.stat()
    path.chmod(stat.S_IMODE(st.st_mode) | stat.S_IWUSR)  # finished runs are read-only
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    path.chmod(stat.S_IMODE(st.st_mode))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def a_page(manifest: dict[str, t.Any]) -> tuple[str, str, str]:
    """(doc id, page id, markdown path) of a page exported in this run."""
    for doc in manifest["docs"]:
        for page in doc["pages"]:
            md = (page.get("files") or {}).get("markdown")
            if md and page.get("status") == "exported":
                return doc["id"], page["id"], md["path"]
    raise AssertionError("no exported page")


def test_verify_a_real_backup_and_a_flipped_byte(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    output = tmp_path / "b"
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    result = run_coda_backup(output=output, fake=fake)
    assert result.returncode == 0, result.stderr
    # a full run that carried nothing wrote and digested every file: that is its full
    # check, so the first --incremental after it checks sizes and times only
    state = json.loads((output / "state.json").read_text(encoding="utf-8"))
    assert not result.summary()["failures"] and not result.summary()["skipped"]
    assert state["full_check_at"] >= started
    assert not damage.full_check_due(state["full_check_at"])
    manifest = result.manifest()
    assert isinstance(manifest["files"], dict)
    intact = coda_backup("verify", "--output", str(output))
    assert intact.returncode == 0, intact.stdout
    _doc, _page, rel = a_page(manifest)
    flip_byte_keep_mtime(result.run_dir / rel)
    damaged = coda_backup("verify", "--output", str(output))
    assert damaged.returncode == 1
    assert damaged.stdout.splitlines()[:-1] == [
        f"{result.latest}/{rel}: content changed (sha256 differs from the manifest)"
    ]


def test_a_damaged_file_in_latest_is_fetched_again(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    first = run_coda_backup(output=output, fake=fake)
    assert first.returncode == 0, first.stderr
    doc_id, page_id, rel = a_page(first.manifest())
    old_run = first.run_dir
    flip_byte_keep_mtime(old_run / rel)
    second = run_coda_backup("--incremental", "--verify-carried", output=output, fake=fake)
    assert second.returncode == 0, second.stderr
    assert f"damaged in latest: {old_run.name}/{rel}" in second.stderr
    new_run = second.run_dir
    assert new_run != old_run
    new_rel = next(
        p["files"]["markdown"]["path"]
        for d in second.manifest()["docs"]
        for p in d["pages"]
        if (d["id"], p["id"]) == (doc_id, page_id)
    )
    copy = new_run / new_rel
    assert copy.read_text(encoding="utf-8") == ws.export_content(doc_id, page_id)
    assert not copy.samefile(old_run / rel)  # written afresh, not a link to the damage
    assert coda_backup("verify", "--output", str(output)).returncode == 0
