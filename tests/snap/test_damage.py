"""The pre-run damage check: which files of `latest` no longer match its manifest, at
which level of check, and which Coda objects they belong to (the tap's `refetch`)."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from coda_backup import damage
from tests.snap.runfolders import make_run, write_manifest

PAGE = "docs/D__d1/pages/P__canvas-p1.md"
CSV = "docs/D__d1/tables/table/P__T__grid-t1.csv"
FILES = {PAGE: b"# P\n\ntext\n", CSV: b"_row_id,A\nr1,x\n", "docs/D__d1/doc.json": b"{}"}
DOCS = [
    {
        "id": "d1",
        "pages": [{"id": "canvas-p1", "files": {"markdown": {"path": PAGE}}}],
        "tables": [{"id": "grid-t1", "files": {"csv": {"path": CSV}}}],
    }
]


def run(tmp_path: Path) -> Path:
    run_dir = make_run(tmp_path, "2026-01-01T000000Z", FILES)
    write_manifest(run_dir, docs=DOCS)
    return run_dir


def test_levels_of_check_and_the_objects_to_fetch_again(tmp_path: Path) -> None:
    run_dir = run(tmp_path)
    assert damage.check_run(run_dir, full=True) == []
    page = run_dir / PAGE
    st = page.stat()
    page.write_bytes(b"# Q\n\ntext\n")  # same size, mtime put back: only the digest sees it
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert damage.check_run(run_dir, full=False) == []
    found = damage.check_run(run_dir, full=True)
    assert [(d.path, d.object_key) for d in found] == [(PAGE, "d1/canvas-p1")]
    with (run_dir / CSV).open("a", encoding="utf-8") as handle:  # an edit in place
        handle.write("r2,y\n")
    (run_dir / "docs/D__d1/doc.json").unlink()
    cheap = damage.check_run(run_dir, full=False)
    assert [(d.path, d.object_key, d.detail.split()[0]) for d in cheap] == [
        ("docs/D__d1/doc.json", None, "missing"),
        (CSV, "d1/grid-t1", "size"),
    ]
    assert damage.refetch_keys(damage.check_run(run_dir, full=True)) == [
        "d1/canvas-p1",
        "d1/grid-t1",
    ]


def test_an_edit_that_keeps_the_size_is_caught_by_its_modification_time(tmp_path: Path) -> None:
    run_dir = run(tmp_path)
    page = run_dir / PAGE
    st = page.stat()
    page.write_bytes(b"# Q\n\ntext\n")
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    found = damage.check_run(run_dir, full=False)
    assert [(d.path, d.object_key) for d in found] == [(PAGE, "d1/canvas-p1")]


def test_full_check_every_30_days_and_pre_run_check(tmp_path: Path) -> None:
    now = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    assert damage.full_check_due(None, now)
    assert damage.full_check_due((now - datetime.timedelta(days=31)).isoformat(), now)
    assert not damage.full_check_due((now - datetime.timedelta(days=29)).isoformat(), now)
    run_dir = run(tmp_path)
    page = run_dir / PAGE
    st = page.stat()
    page.write_bytes(b"# Q\n\ntext\n")
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    recent = datetime.datetime.now(datetime.timezone.utc).isoformat()
    (tmp_path / "state.json").write_text(json.dumps({"full_check_at": recent}), "utf-8")
    assert damage.pre_run_check(tmp_path, run_dir.name, verify_carried=False) == ([], recent)
    refetch, checked = damage.pre_run_check(tmp_path, run_dir.name, verify_carried=True)
    assert refetch == ["d1/canvas-p1"]
    assert checked is not None and checked > recent[:19]
