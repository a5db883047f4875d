"""`coda-backup verify` through the real console script, on run folders whose manifests
list every file with its digest: each kind of damage is one line naming the file."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from tests.snap.runfolders import coda_backup, make_run

FILES = {
    "docs/Doc__d1/doc.json": b'{"id": "d1"}',
    "docs/Doc__d1/pages/Page__p1.md": b"# Page\n\nhello\n",
    "docs/Doc__d1/tables/table/T__t1.csv": b"_row_id,Name\nr1,a\nr2,b\n",
}
CSV = "docs/Doc__d1/tables/table/T__t1.csv"


@pytest.fixture
def output(tmp_path: Path) -> Path:
    out = tmp_path / "backups"
    out.mkdir()
    make_run(out, "2026-01-01T000000Z", FILES)
    return out


def verify(output: Path, *args: str) -> t.Any:
    return coda_backup("verify", "--output", str(output), *args)


def flip_byte(path: Path, offset: int = 3) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    st = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back: only the digest sees it


def test_intact_run_exits_0(output: Path) -> None:
    ran = verify(output)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().endswith("intact")
    assert f"{len(FILES) + 1} files listed" in ran.stdout


@pytest.mark.parametrize(
    ("damage", "path", "words"),
    [
        ("flip", CSV, "content changed"),
        ("truncate", CSV, "size 10 bytes"),
        ("delete", CSV, "missing"),
        ("add", "docs/Doc__d1/pages/stray.md", "not listed"),
        ("manifest", "manifest.json", "manifest"),
    ],
)
def test_each_damage_is_one_line_with_its_path(
    output: Path, damage: str, path: str, words: str
) -> None:
    run = output / "2026-01-01T000000Z"
    target = run / path
    if damage == "flip":
        flip_byte(target)
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:10])
    elif damage == "delete":
        target.unlink()
    elif damage == "add":
        target.write_bytes(b"not from Coda")
    else:
        target.write_bytes(target.read_bytes()[:-5])  # cut JSON
    ran = verify(output)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    problems = ran.stdout.splitlines()[:-1]
    assert problems == [
        line for line in problems if line.startswith(f"2026-01-01T000000Z/{path}: ")
    ]
    assert len(problems) == 1, ran.stdout
    assert words in problems[0]
    assert "1 problem(s) found" in ran.stdout.splitlines()[-1]


def test_hard_linked_runs_read_each_file_once(output: Path) -> None:
    changed = {**FILES, CSV: b"_row_id,Name\nr1,a\nr2,B\n"}
    make_run(output, "2026-01-02T000000Z", changed, link_from="2026-01-01T000000Z")
    ran = verify(output, "--all", "--json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    body = ran.json()
    assert [r["run"] for r in body["runs"]] == ["2026-01-01T000000Z", "2026-01-02T000000Z"]
    inodes = {
        (p.stat().st_dev, p.stat().st_ino)
        for run in ("2026-01-01T000000Z", "2026-01-02T000000Z")
        for p in (output / run).rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert body["files_read"] == len(inodes) < sum(r["files"] for r in body["runs"])
    assert body["ok"] is True


def test_damage_in_a_shared_file_is_reported_for_every_run_that_lists_it(output: Path) -> None:
    make_run(output, "2026-01-02T000000Z", FILES, link_from="2026-01-01T000000Z")
    flip_byte(output / "2026-01-02T000000Z" / CSV)
    ran = verify(output, "--all", "--json")
    assert ran.returncode == 1
    hits = [(r["run"], p["path"], p["kind"]) for r in ran.json()["runs"] for p in r["problems"]]
    assert hits == [
        ("2026-01-01T000000Z", CSV, "changed"),
        ("2026-01-02T000000Z", CSV, "changed"),
    ]


def test_named_runs_and_usage_errors(output: Path) -> None:
    make_run(output, "2026-01-02T000000Z", FILES, link_from="2026-01-01T000000Z")
    ran = verify(output, "2026-01-01T000000Z", "--json")
    assert ran.returncode == 0
    assert [r["run"] for r in ran.json()["runs"]] == ["2026-01-01T000000Z"]
    for args in (["2026-09-09T000000Z"], ["latest", "--all"], ["--bogus"]):
        bad = verify(output, *args)
        assert bad.returncode == 2, (args, bad.stdout, bad.stderr)
        assert "error" in bad.stderr
    empty = output.parent / "empty"
    empty.mkdir()
    assert verify(empty).returncode == 2
