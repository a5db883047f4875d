"""Damage never spreads (docs/RELIABILITY.md "Checksums and the carry check"), through the
real `tap-coda | target-files` pipe against the fake: a finished run is read-only, every
file is listed with its digest, and a file of `latest` that no longer matches its manifest
(edited, planted symlink) is never carried: the next run reports it and drops its bookmark,
and the run after that fetches it from Coda again."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import typing as t
from pathlib import Path

from fakecoda import build_demo_workspace
from fakecoda.render import export_content
from tests.helpers import FAST_TAP, run_pipe

TOKEN = "tok-CARRY-sEcReT-91c3e0aa"


def latest(out: Path) -> Path:
    return out / (out / "latest.txt").read_text(encoding="utf-8").strip()


def load(path: Path) -> t.Any:
    return json.loads(path.read_text(encoding="utf-8"))


def flip_a_byte(path: Path, *, keep_mtime: bool) -> None:
    before = path.stat()
    path.chmod(0o600)  # the run made it read-only (root could write anyway)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    path.chmod(0o400)
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_files_are_listed_read_only_and_damage_is_healed(
    start_fake: t.Callable[..., t.Any], tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    out = tmp_path / "b"
    fake = start_fake(ws, token=TOKEN)
    tap = {"api_url": fake.url, **FAST_TAP}
    first = run_pipe(tap, {"output_dir": str(out)}, tmp_path / "w1", token=TOKEN).check()
    run1 = latest(out)
    manifest = load(run1 / "manifest.json")

    # every file of the run but the manifest is listed with its digest, read-only
    on_disk = {p.relative_to(run1).as_posix() for p in run1.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {"manifest.json"}
    assert "summary.json" in manifest["files"]
    for rel, entry in manifest["files"].items():
        path = run1 / rel
        st = path.lstat()
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), rel
        assert (entry["size"], entry["mtime_ns"]) == (st.st_size, st.st_mtime_ns), rel
        assert stat.S_IMODE(st.st_mode) == 0o400, rel
    assert stat.S_IMODE((run1 / "manifest.json").stat().st_mode) == 0o400
    if os.geteuid() != 0:  # root writes through any mode: the suite runs as root in CI
        rel = next(iter(manifest["files"]))
        try:
            (run1 / rel).open("r+b")
        except PermissionError:
            pass
        else:
            raise AssertionError("a backed-up file could be opened for writing")

    docs = {d["id"]: d for d in manifest["docs"]}
    pages = [
        (doc_id, p)
        for doc_id, d in docs.items()
        for p in d["pages"]
        if (p["files"].get("markdown") or {}).get("path")
    ]
    tables = [(d_id, x) for d_id, d in docs.items() for x in d["tables"] if x["path"]]
    (edited_doc, edited), (quiet_doc, quiet) = pages[0], pages[1]
    planted_doc, planted = tables[0]
    edited_path = run1 / edited["files"]["markdown"]["path"]
    quiet_path = run1 / quiet["files"]["markdown"]["path"]
    csv_path = run1 / planted["path"]
    csv_bytes = csv_path.read_bytes()
    flip_a_byte(edited_path, keep_mtime=False)  # an editor saving in place
    flip_a_byte(quiet_path, keep_mtime=True)  # bit rot: only the digest shows it
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(csv_bytes)  # the same bytes, but through a symlink
    csv_path.unlink()
    csv_path.symlink_to(elsewhere)

    second = run_pipe(
        tap,
        {"output_dir": str(out), "verify_carried": True},
        tmp_path / "w2",
        token=TOKEN,
        state=first.final_state,
    ).check()
    run2 = latest(out)
    summary = load(run2 / "summary.json")
    damaged = {(d["object_id"], d["reason"]) for d in summary["damaged_carried"]}
    assert damaged == {
        (edited["id"], "modification time differs"),  # same size: one byte flipped
        (quiet["id"], "content differs (sha256)"),
        (planted["id"], "a symlink instead of a file"),
    }
    assert summary["status"] == "partial"
    index2 = {
        o["id"]: o for d in load(run2 / "manifest.json")["docs"] for o in d["pages"] + d["tables"]
    }
    for obj in (edited, quiet, planted):
        assert index2[obj["id"]]["status"] == "failed"
    assert not (run2 / edited["files"]["markdown"]["path"]).exists()
    assert not (run2 / planted["path"]).exists()
    state = second.final_state or {}
    marks = state["bookmarks"]["page_contents"]["partitions"]
    assert not [m for m in marks if m["context"]["page_id"] in (edited["id"], quiet["id"])]
    rows = state["bookmarks"]["rows"]["partitions"]
    assert not [m for m in rows if m["context"]["table_id"] == planted["id"]]

    run_pipe(
        tap, {"output_dir": str(out)}, tmp_path / "w3", token=TOKEN, state=second.final_state
    ).check()
    run3 = latest(out)
    summary3 = load(run3 / "summary.json")
    assert (summary3["status"], summary3["damaged_carried"]) == ("complete", [])
    by_id = {doc.id: doc for doc in ws.docs}
    for doc_id, page in ((edited_doc, edited), (quiet_doc, quiet)):
        doc = by_id[doc_id]
        truth = export_content(
            ws, doc, next(p for p in doc.pages if p.id == page["id"]), "markdown"
        )
        healed = run3 / page["files"]["markdown"]["path"]
        assert healed.read_bytes().decode("utf-8") == truth
    healed_csv = run3 / planted["path"]
    assert not healed_csv.is_symlink()
    assert healed_csv.read_bytes() == csv_bytes
    index3 = {o["id"]: o for d in load(run3 / "manifest.json")["docs"] for o in d["tables"]}
    assert index3[planted["id"]]["syncMode"] == "full"
    assert planted_doc in by_id
