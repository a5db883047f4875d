"""coda-backup's first hour, through the real console scripts against the fake Coda API:
an empty run never replaces a `latest` with docs, the README's shell pipe, the config
file, --version, and a wrong token leaving nothing behind.

Expected values come from the fake's workspace or from an earlier run's own files.
"""

from __future__ import annotations

import json
import re
import typing as t

from fakecoda import build_demo_workspace
from tests.e2e.backup_cli import Result, run_coda_backup

if t.TYPE_CHECKING:
    from pathlib import Path

    from fakecoda import FakeCoda

StartFake = t.Callable[..., "FakeCoda"]


def one_error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in lines if line.startswith("coda-backup: error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def run_folders(output: Path) -> set[str]:
    return {p.name for p in output.iterdir() if p.is_dir() and not p.is_symlink()}


# -- an empty run never replaces a latest that has docs -------------------------------------


def test_a_filter_matching_no_doc_keeps_latest(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    first = run_coda_backup(output=output, fake=fake)
    assert first.returncode == 0, first.stderr
    latest, state = first.latest, (output / "state.json").read_bytes()
    assert first.summary()["docs_processed"] == len([d for d in ws.docs if d.listed])

    typo = run_coda_backup("--workspace-id", "ws-nope", output=output, fake=fake)
    assert typo.returncode == 1, typo.stderr
    line = one_error_line(typo)
    assert "--workspace-id ws-nope" in line
    assert latest in line
    assert "--allow-empty" in line
    assert typo.latest == latest
    assert run_folders(output) == {latest}  # the refused run left no folder, no partial
    assert (output / "state.json").read_bytes() == state
    assert "Backup complete" not in typo.stdout

    allowed = run_coda_backup(
        "--workspace-id", "ws-nope", "--allow-empty", output=output, fake=fake
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.latest != latest
    assert allowed.summary()["docs_processed"] == 0


def test_an_account_listing_that_comes_back_empty_keeps_latest(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    first = run_coda_backup(output=output, fake=fake)
    assert first.returncode == 0, first.stderr
    for doc in ws.docs:
        doc.listed = False  # GET /docs now answers an empty list
    empty = run_coda_backup("--incremental", output=output, fake=fake)
    assert empty.returncode == 1, empty.stderr
    assert "Coda listed no docs for this token" in one_error_line(empty)
    assert empty.latest == first.latest
    assert run_folders(output) == {first.latest}


def test_a_first_run_without_docs_is_promoted_with_a_warning(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    result = run_coda_backup("--workspace-id", "ws-nope", output=tmp_path / "b", fake=fake)
    assert result.returncode == 0, result.stderr  # nothing to lose: no latest with docs
    assert "no doc matches --workspace-id ws-nope" in result.stderr
    assert json.loads((result.run_dir / "summary.json").read_text("utf-8"))["docs_found"] == 0


# -- small ones ------------------------------------------------------------------------------


def test_version_names_the_installed_distribution(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = run_coda_backup("--version", output=tmp_path / "b")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"coda-backup {version('tap-coda')}"
    assert not (tmp_path / "b").exists()


def test_a_wrong_token_leaves_no_output_folder(start_fake: StartFake, tmp_path: Path) -> None:
    fake = start_fake(build_demo_workspace())
    output = tmp_path / "new" / "backups"
    result = run_coda_backup(output=output, fake=fake, token="not-the-token")
    assert result.returncode == 1
    assert "401" in one_error_line(result)
    assert fake.count(status=401) >= 1  # the token was tried: the folder had existed
    assert not (tmp_path / "new").exists()  # both folders this run created are gone


def test_a_wrong_token_keeps_an_existing_output_folder(
    start_fake: StartFake, tmp_path: Path
) -> None:
    fake = start_fake(build_demo_workspace())
    output = tmp_path / "backups"
    output.mkdir()
    (output / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_coda_backup(output=output, fake=fake, token="not-the-token")
    assert result.returncode == 1
    # what was there stays; nothing of the run but the writer lock file (coda_backup.lock)
    assert sorted(p.name for p in output.iterdir()) == [".coda-backup.lock", "notes.txt"]


# -- progress with totals -------------------------------------------------------------------


def final_progress(result: Result) -> dict[str, tuple[int, int, bool]]:
    """kind → (done, total, complete) from the run's last progress line."""
    lines = [ln for ln in result.stderr.splitlines() if "coda-backup: progress: finished:" in ln]
    assert len(lines) == 1, result.stderr
    found = re.findall(r"(\w+) ([\d,]+)/([\d,]+)(\+?)", lines[0])
    return {
        kind: (int(done.replace(",", "")), int(total.replace(",", "")), not plus)
        for kind, done, total, plus in found
    }


def test_progress_totals_match_the_workspace(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    fake = start_fake(ws)
    output = tmp_path / "b"
    result = run_coda_backup(output=output, fake=fake)
    assert result.returncode == 0, result.stderr
    docs = [d for d in ws.docs if d.listed and d.is_owner]
    readable = [d for d in docs if not d.over_api_size_limit]
    pages = [p for d in readable for p in d.pages]
    canvas = [p for p in pages if p.content_type == "canvas"]
    tables = [(d, tb) for d in readable for tb in d.tables]
    rows = sum(len(ws.rows_of(d, tb)) for d, tb in tables)
    progress = final_progress(result)
    assert progress["docs"] == (len(docs), len(docs), True)
    assert progress["pages"] == (len(pages), len(pages), True)
    exported = len([p for p in canvas if not p.export_fails])
    assert progress["exports"] == (exported, len(canvas), True)
    assert progress["tables"] == (len(tables), len(tables), True)
    assert progress["rows"] == (rows, rows, True)
    assert "100%" in result.stderr

    again = run_coda_backup("--incremental", output=output, fake=fake)
    assert again.returncode == 0, again.stderr
    progress = final_progress(again)
    assert progress["exports"] == (0, 0, True)  # nothing changed: nothing to export
    assert progress["rows"] == (0, 0, True)  # every table unchanged: no row read
    assert progress["tables"] == (len(tables), len(tables), True)


def test_skips_as_failures_reaches_the_tap(start_fake: StartFake, tmp_path: Path) -> None:
    from fakecoda import build_test_workspace

    ws = build_test_workspace()
    unexportable = {p.id for d in ws.docs for p in d.pages if p.content_type != "canvas"}
    assert unexportable
    fake = start_fake(ws)
    strict = run_coda_backup("--skips-as-failures", output=tmp_path / "a", fake=fake)
    assert strict.returncode == 3, strict.stderr
    failed = {f["object_id"] for f in strict.summary()["failures"]}
    assert unexportable <= failed
    plain = run_coda_backup(output=tmp_path / "b", fake=fake)
    if "skips" not in plain.summary():
        import pytest

        pytest.skip("tap/target without skips yet: the flag cannot change anything")
    skipped = {s["object_id"] for s in plain.summary()["skips"]}
    assert unexportable <= skipped
    assert not unexportable & {f["object_id"] for f in plain.summary()["failures"]}
