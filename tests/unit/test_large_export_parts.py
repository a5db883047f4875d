"""The pure halves of a large export's journey (issue #12): the tap's `SpooledExport` cut
into parts and windows, the target's `PageParts` joining them (tap_coda.spooled,
target_files.pageparts)."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from base64 import b64encode

import pytest

from tap_coda import workdir
from tap_coda.export import content_fields
from tap_coda.spooled import SCAN_OVERLAP, SpooledExport, is_utf8
from target_files import fsutil
from target_files.digest import Digest
from target_files.pageparts import PageParts, PartsError

if t.TYPE_CHECKING:
    from pathlib import Path

PERMS = fsutil.Perms(private=True, fsync=False)
KEY = ("d-1", "p-1", "markdown")


def spooled(tmp_path: Path, data: bytes) -> SpooledExport:
    path = tmp_path / "export.part"
    path.write_bytes(data)
    return SpooledExport(path, len(data), is_utf8(path, chunk=7))


def test_utf8_parts_are_cut_between_characters_and_join_to_the_text(tmp_path: Path) -> None:
    text = "é€😀 ascii " * 50
    export = spooled(tmp_path, text.encode("utf-8"))
    pieces = list(export.pieces(size=13))
    assert export.utf8
    assert all(isinstance(p, str) and len(p.encode("utf-8")) <= 13 for p in pieces)
    assert "".join(t.cast("list[str]", pieces)) == text


def test_bytes_that_are_not_utf8_are_parts_of_bytes_as_served(tmp_path: Path) -> None:
    data = b"caf\xe9 " * 40  # Latin-1
    export = spooled(tmp_path, data)
    pieces = list(export.pieces(size=16))
    assert not export.utf8
    assert b"".join(t.cast("list[bytes]", pieces)) == data
    assert content_fields(pieces[0]) == {
        "content": None,
        "content_base64": b64encode(data[:16]).decode(),
    }
    assert list(export.windows()) == []  # no links looked for in bytes


def test_windows_overlap_so_a_link_cut_by_a_part_is_whole_in_one(tmp_path: Path) -> None:
    link = "](https://codahosted.io/x/y.png)"
    text = "a" * ((1 << 20) - 5) + link + "b" * 100
    export = spooled(tmp_path, text.encode("ascii"))
    windows = list(export.windows())
    assert len(windows) == 2
    assert link not in windows[0] and link in windows[1]
    assert windows[1].startswith(windows[0][-SCAN_OVERLAP:])


def part(seq: int, **fields: t.Any) -> dict[str, t.Any]:
    return {"doc_id": "d-1", "page_id": "p-1", "format": "markdown", "seq": seq, **fields}


def test_parts_in_order_make_the_file_and_its_digest(tmp_path: Path) -> None:
    parts = PageParts(PERMS)
    names = iter([tmp_path / "1.md", tmp_path / "2.md"])
    parts.add(part(0, content="héllo "), lambda fmt: next(names))
    parts.add(part(1, content_base64=b64encode(b"\xff\xfe").decode()), lambda fmt: next(names))
    path, digest = parts.take(KEY, 2)
    assert path.read_bytes() == "héllo ".encode() + b"\xff\xfe"
    assert digest.hexdigest == Digest.of_bytes(path.read_bytes()).hexdigest


@pytest.mark.parametrize(
    ("seqs", "sent", "why"),
    [
        ([0, 2], 3, "part 2 came where 1 was due"),
        ([0, 1], 3, "2 of its 3 parts came"),
        ([], 1, "none of its parts came"),
    ],
)
def test_parts_missing_or_out_of_order_refuse_the_page(
    tmp_path: Path, seqs: list[int], sent: int, why: str
) -> None:
    parts = PageParts(PERMS)
    for seq in seqs:
        parts.add(part(seq, content="x"), lambda fmt: tmp_path / "1.md")
    with pytest.raises(PartsError, match=why):
        parts.take(KEY, sent)
    assert not (tmp_path / "1.md").exists()  # nothing half-made is left


def test_a_killed_taps_work_folder_goes_at_the_next_run_a_live_ones_stays(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / f"{workdir.PREFIX}{gone.pid}-abc"
    live = tmp_path / f"{workdir.PREFIX}{os.getppid()}-def"  # the test runner's parent
    other = tmp_path / "something-else"
    for folder in (dead, live, other):
        (folder / "export-1.part").parent.mkdir()
        (folder / "export-1.part").write_bytes(b"x")
    made = workdir.make(tmp_path)
    assert made.name.startswith(f"{workdir.PREFIX}{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([made.name, live.name, other.name])
