"""`coda-backup restore rows` end to end: real console script, real HTTP to the fake."""

from __future__ import annotations

import signal
import subprocess
import time
import typing as t
from pathlib import Path

from fakecoda import FakeCoda
from target_files.csvfile import cell as csv_cell
from tests.e2e.backup_cli import TOKEN, clean_env, run_coda_backup
from tests.e2e.restore_cli import (
    report,
    restore_command,
    run_restore,
    saved_rows,
    table_entry,
    writes,
)
from tests.e2e.restore_ws import restore_workspace
from tests.fakes import StartFake


def backed_up(fake: FakeCoda, out: Path) -> tuple[Path, dict[str, t.Any]]:
    result = run_coda_backup("--rows-json", output=out, fake=fake)
    assert result.returncode == 0, result.stderr[-3000:]
    _, tasks = fake.workspace.tagged("table.tasks")
    return result.run_dir, table_entry(result.manifest(), tasks.id)


def live_cells(fake: FakeCoda, row_id: str) -> dict[str, t.Any]:
    ws = fake.workspace
    doc, tasks = ws.tagged("table.tasks")
    values: dict[str, t.Any] = ws.api_row(doc, tasks, row_id, base=fake.url)["values"]
    return values


def assert_restored(fake: FakeCoda, saved: list[dict[str, t.Any]], id_map: dict[str, str]) -> None:
    """Every saved row is live again (under its old id or the new one), cell for cell in
    every column a restore writes (not the calculated one)."""
    _, tasks = fake.workspace.tagged("table.tasks")
    writable = [c.id for c in tasks.columns if not c.calculated]
    for row in saved:
        live = live_cells(fake, id_map.get(row["id"], row["id"]))
        assert {c: live[c] for c in writable} == {c: row["values"][c] for c in writable}


def args_for(fake: FakeCoda, out: Path) -> list[str]:
    doc, tasks = fake.workspace.tagged("table.tasks")
    return ["--from", str(out), "--doc", doc.id, "--table", tasks.id, "--json"]


def test_deleted_and_edited_rows_come_back(start_fake: StartFake, tmp_path: Path) -> None:
    ws = restore_workspace()
    with start_fake(ws, mutation_seconds=0.2) as fake:
        run, entry = backed_up(fake, tmp_path / "out")
        saved = saved_rows(run, entry)
        doc, tasks = ws.tagged("table.tasks")
        gone = [tasks.rows[2].id, tasks.rows[5].id]
        for row_id in gone:
            ws.delete_row(doc.id, tasks.id, row_id)
        ws.edit_row(doc.id, tasks.id, tasks.rows[3].id, {"Task": "Changed", "Labels": ["web"]})
        added = ws.add_row(doc.id, tasks.id, {"Task": "Added since"})
        args = args_for(fake, tmp_path / "out")

        before = writes(fake)
        plan = report(run_restore(fake, "rows", *args))
        assert writes(fake) == before  # the plan alone sends no write
        assert plan["applied"] is False
        assert (plan["counts"]["insert"], plan["counts"]["update"]) == (2, 1)
        assert plan["objects"]["insert"] == gone
        assert plan["columns_not_written"] == ["Score"]

        done = report(run_restore(fake, "rows", *args, "--apply"))
        assert done["writes_sent"] == done["writes_confirmed"] == plan["write_requests"]
        assert sorted(done["id_map"]) == sorted(gone)
        assert_restored(fake, saved, done["id_map"])
        assert added.id in {r.id for r in tasks.rows}  # rows added since are left alone
        assert len(tasks.rows) == len(saved) + 1

        before = writes(fake)
        again = report(run_restore(fake, "rows", *args, "--apply"))
        assert (again["counts"]["insert"], again["counts"]["update"]) == (0, 0)
        assert again["id_map"] == done["id_map"]  # found again by their cells
        assert writes(fake) == before

        removed = report(run_restore(fake, "rows", *args, "--apply", "--delete-added"))
        assert removed["objects"]["delete"] == [added.id]
        assert len(tasks.rows) == len(saved)


def test_an_interrupted_apply_finishes_without_duplicates(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = restore_workspace(rows=60)
    with start_fake(ws, mutation_seconds=0.5, latency=0.05) as fake:
        run, entry = backed_up(fake, tmp_path / "out")
        saved = saved_rows(run, entry)
        doc, tasks = ws.tagged("table.tasks")
        for row in list(tasks.rows[:30]):
            ws.delete_row(doc.id, tasks.id, row.id)
        for row in tasks.rows[:20]:
            ws.edit_row(doc.id, tasks.id, row.id, {"Status": "Doing", "Estimate": 99})
        command = restore_command(fake, "rows", *args_for(fake, tmp_path / "out"), "--apply")
        proc = subprocess.Popen(command, env=clean_env(CODA_API_TOKEN=TOKEN))
        deadline = time.monotonic() + 60
        while fake.count(method="PUT") < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # no chance to clean up
        proc.wait(timeout=10)
        assert 0 < fake.count(method="PUT") < 20  # it was stopped mid-way

        done = report(run_restore(fake, "rows", *args_for(fake, tmp_path / "out"), "--apply"))
        assert done["counts"]["insert"] == 0  # the first run's inserts were found again
        assert len(tasks.rows) == len(saved)  # no duplicates
        assert_restored(fake, saved, done["id_map"])
        assert not list((tmp_path / "out" / ".restore").glob("*.json"))  # all confirmed
        for path in (tmp_path / "out").rglob("*"):
            assert not path.is_file() or TOKEN.encode() not in path.read_bytes()


def test_a_read_only_token_is_one_line(start_fake: StartFake, tmp_path: Path) -> None:
    ws = restore_workspace()
    with start_fake(ws) as fake:
        backed_up(fake, tmp_path / "out")
    with start_fake(ws, read_only=True) as fake:
        doc, tasks = ws.tagged("table.tasks")
        ws.delete_row(doc.id, tasks.id, tasks.rows[0].id)
        proc = run_restore(fake, "rows", *args_for(fake, tmp_path / "out"), "--apply")
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert "403" in lines[0] and "write access" in lines[0]
        assert TOKEN not in proc.stderr + proc.stdout


def test_a_token_too_short_to_be_codas_is_one_line_before_any_request(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = restore_workspace()
    with start_fake(ws) as fake:
        backed_up(fake, tmp_path / "out")
        fake.reset_log()
        proc = run_restore(fake, "rows", *args_for(fake, tmp_path / "out"), token="e")
        assert not fake.log
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "the API token is 1 character long" in lines[0]


def test_rows_into_another_table_by_column_name(start_fake: StartFake, tmp_path: Path) -> None:
    ws = restore_workspace()
    with start_fake(ws) as fake:
        run, entry = backed_up(fake, tmp_path / "out")
        saved = saved_rows(run, entry)
        spare = ws.doc(ws.tags["doc.spare"])
        _, copy = ws.tagged("table.copy")  # Task, Status, Estimate only
        args = [*args_for(fake, tmp_path / "out"), "--to-doc", spare.id, "--to-table"]
        short = run_restore(fake, "rows", *args, copy.id)
        assert short.returncode == 1
        assert short.stderr.strip().splitlines() == [
            "coda-backup restore: error: no live column with the same name for ['Labels', 'Done']"
        ]
        _, tasks = ws.tagged("table.tasks")
        names = [c.name for c in tasks.columns if not c.calculated]
        twin = ws.add_table(spare.id, "Tasks twin", spare.pages[0].id, list(reversed(names)))
        done = report(run_restore(fake, "rows", *args, "Tasks twin", "--apply"))
        assert done["counts"]["insert"] == len(saved)
        by_name = {c.name: c.id for c in twin.columns}
        source = {c.id: c.name for c in tasks.columns if not c.calculated}
        for row in saved:
            live = ws.api_row(spare, twin, done["id_map"][row["id"]], base=fake.url)["values"]
            assert {n: live[by_name[n]] for n in names} == {
                source[c]: v for c, v in row["values"].items() if c in source
            }
        again = report(run_restore(fake, "rows", *args, "Tasks twin", "--apply"))
        assert again["counts"]["insert"] == 0 and len(twin.rows) == len(saved)


def test_rows_from_a_run_without_rows_json_come_from_its_csv(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = restore_workspace()
    with start_fake(ws) as fake:
        first = run_coda_backup(output=tmp_path / "out", fake=fake)
        assert first.returncode == 0, first.stderr[-3000:]
        doc, tasks = ws.tagged("table.tasks")
        gone = tasks.rows[4]
        text = {c: csv_cell(v) for c, v in ws.api_row(doc, tasks, gone.id)["values"].items()}
        ws.delete_row(doc.id, tasks.id, gone.id)
        done = report(run_restore(fake, "rows", *args_for(fake, tmp_path / "out"), "--apply"))
        assert done["title"].count("(CSV)") == 1
        back = ws.api_row(doc, tasks, done["id_map"][gone.id], base=fake.url)["values"]
        writable = [c.id for c in tasks.columns if not c.calculated]
        assert {c: csv_cell(back[c]) for c in writable} == {c: text[c] for c in writable}
        again = report(run_restore(fake, "rows", *args_for(fake, tmp_path / "out")))
        assert (again["counts"]["insert"], again["counts"]["update"]) == (0, 0)
