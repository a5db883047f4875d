"""The fault suite: `tap-coda | target-files` (and `coda-backup`) against a seeded, faulty
fake Coda API on 127.0.0.1, each run checked against the fake's ground truth.

For every fault class of `fakecoda` (NOTES.md §4, §9 to §11, §13: how Coda really
fails) one run proves the rule of `truth.check_run`: every object is in the backup byte for
byte or listed in `failures` with its id and HTTP status — never missing silently, never
corrupt. Transient faults must leave no trace but retries; faults that outlast the retries
must be recorded exactly as expected, and the run goes on. Every run also greps every file,
log and record for the token. docs/RELIABILITY.md maps each fault to its test here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakecoda import FakeCoda, Fault, build_demo_workspace, build_test_workspace
from tests.e2e.backup_cli import message_lines, run_coda_backup
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, baseline_failures, check_portable_tree, check_run
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, PipeResult, run_pipe

if t.TYPE_CHECKING:
    from fakecoda import Workspace

#: Distinctive, so a leak into any file, record or log line is easy to find.
TOKEN = "tok-FAULTS-sEcReT-5e8a1d27"
#: Short waits so faults cost little: a 0.5 s request timeout meets `timeout` faults.
TAP = {
    **FAST_TAP,
    "include_shared": True,
    "request_timeout": 0.5,
    "export_timeout": 10,
    "max_retries": 4,
}


@dataclass
class Run:
    fake: FakeCoda
    url: str  # the fake's API URL (the API JSON embeds it); the fake is stopped by now
    result: PipeResult
    root: Path
    output: Path

    @property
    def tree(self) -> Tree:
        latest = (self.output / "latest.txt").read_text(encoding="utf-8").strip()
        return Tree(self.output / latest, self.fake.workspace, self.url)

    def failures(self) -> dict[tuple[str, str], dict[str, t.Any]]:
        found = {}
        for f in self.tree.failures:
            key = (f["object_type"], f["object_id"] or f["doc_id"])
            assert key not in found, f"two failure records for {key}"
            found[key] = f
        return found


def run_faulty(
    start: StartFake,
    root: Path,
    ws: Workspace,
    faults: list[Fault],
    tap: dict[str, t.Any] | None = None,
    **cfg,
) -> Run:
    """One `tap-coda | tee | target-files` run against a fake with these faults."""
    output = root / "backups"
    with start(ws, token=TOKEN, faults=faults, seed=7, **cfg) as fake:
        url = fake.url
        result = run_pipe(
            {"api_url": fake.url, **TAP, **(tap or {})},
            {"output_dir": str(output)},
            root / "work",
            token=TOKEN,
            tee=True,
        )
    return Run(fake, url, result, root, output)


def assert_no_token_anywhere(root: Path, *texts: str) -> None:
    """Not in any file under root (tree, state, configs, logs, the teed records), nor in
    the given texts (stderr, stdout)."""
    needle = TOKEN.encode()
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert needle not in path.read_bytes(), path
    for text in texts:
        assert TOKEN not in text


def assert_fired(run: Run, faults: list[Fault]) -> None:
    """Each fault fired as often as it was allowed to (the scenario really happened)."""
    for fault, hits in zip(faults, run.fake.fault_hits, strict=True):
        assert hits >= (fault.times or 1), (fault, hits)


def check(run: Run, expected: dict[tuple[str, str], int | None]) -> dict[tuple[str, str], dict]:
    """The run completed, its tree is the ground truth, and its failures are exactly the
    workspace's baseline plus `expected` ((object_type, id) -> HTTP status)."""
    run.result.check()
    assert run.result.final_state is not None
    ws = run.fake.workspace
    docs = listed_docs(ws)
    check_run(run.tree, docs)
    check_portable_tree(run.output, run.tree.run)
    failures = run.failures()
    want = dict.fromkeys(baseline_failures(docs)) | expected
    assert set(failures) == set(want), sorted(set(failures) ^ set(want))
    for key, status in expected.items():
        failure = failures[key]
        assert failure["http_status"] == status, failure
        assert failure["doc_id"] and failure["name"] and failure["error"], failure
        if key[0] in ("page_content", "table", "columns", "rows"):  # the object's own name
            assert failure["name"] == ws.find(key[1])[1].name, failure
    assert_no_token_anywhere(
        run.root, run.result.tap_stderr, run.result.target_stderr, run.result.target_stdout
    )
    return failures


def path_of(ws: Workspace, tag: str) -> tuple[str, str]:
    """(doc id, object id) of a tagged object, both regex-escaped for `path_re`."""
    doc, obj = ws.tagged(tag)
    return re.escape(doc.id), re.escape(obj.id)


# -- transient faults: retried away, the backup is complete ------------------------------


TRANSIENT: dict[str, tuple[list[Fault], dict[str, t.Any]]] = {
    "429 burst, no Retry-After": (
        [
            Fault("429", path_re="/docs$", times=2),
            Fault("429", path_re="/rows$", times=4),
            Fault("429", path_re="/export$", method="POST", times=3),
        ],
        {},
    ),
    "429 with Retry-After": ([Fault("429", path_re="/columns$", times=2, retry_after=0.3)], {}),
    "500/502/503/504 for a while": (
        [
            Fault("status", path_re="/pages$", status=500, times=2),
            Fault("status", path_re=r"/tables/[^/]+$", status=502, times=2),
            Fault("status", path_re="/rows$", status=503, times=2),
            Fault("status", path_re="/export/", status=504, times=2),
            Fault("status", path_re="^/blobs/", status=503, times=2),
        ],
        {},
    ),
    "connection resets": (
        [
            Fault("reset", path_re="/whoami$", times=1),
            Fault("reset", path_re="/tables$", times=2),
            Fault("reset", path_re="/export$", method="POST", times=2),
            Fault("reset", path_re="^/blobs/", times=2),
        ],
        {},
    ),
    "read timeouts": (
        [
            Fault("timeout", path_re="/columns$", times=1, seconds=2),
            Fault("timeout", path_re="^/blobs/", times=1, seconds=2),
        ],
        {},
    ),
    "slow bodies": (
        # 1.5 s spread over ten pieces: every read waits 0.15 s, under the 0.5 s timeout
        [
            Fault("slow_body", path_re="/rows$", times=2, seconds=1.5),
            Fault("slow_body", path_re="^/blobs/", times=1, seconds=1.5),
        ],
        {},
    ),
    "truncated bodies": (
        [
            Fault("truncate", path_re="/tables$", times=2),
            Fault("truncate", path_re="/rows$", times=2),
            Fault("truncate", path_re="^/blobs/", times=2),  # a cut gzip stream
        ],
        {},
    ),
    "non-JSON bodies": (
        [
            Fault("non_json", path_re="/docs$", times=1),
            Fault("non_json", path_re="/pages$", times=2),
            Fault("non_json", path_re="^/blobs/", times=2),  # a proxy's HTML page
        ],
        {},
    ),
    "exports inProgress for a while": ([Fault("export_stuck", times=6)], {}),
    "dead download links once": (
        [Fault("dead_link_200", times=2), Fault("dead_link_403", times=2)],
        {},
    ),
    "doc version stale for a while": ([Fault("stale", times=4)], {"strict_latest": True}),
}


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_faults_leave_a_complete_backup(
    start_fake: StartFake, name: str, tmp_path: Path
) -> None:
    faults, tap = TRANSIENT[name]
    run = run_faulty(start_fake, tmp_path, build_test_workspace(0), faults, tap)
    assert_fired(run, faults)
    check(run, {})
    if name == "429 with Retry-After":  # waited as asked, not by its own backoff
        assert "Retrying columns in 0.3 s" in run.result.tap_stderr


# -- faults that outlast the retries: recorded, the run goes on ----------------------------


def test_objects_that_keep_failing_are_recorded_with_their_status(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_test_workspace(0)
    _, people = path_of(ws, "table.people")
    _, events = path_of(ws, "table.events")
    _, risks = path_of(ws, "table.empty")
    _, backlog = path_of(ws, "table.backlog")
    _, q3 = path_of(ws, "page.q3")
    _, deepest = path_of(ws, "page.deepest")
    faults = [
        Fault("status", path_re=rf"/tables/{people}$", status=403),
        Fault("status", path_re=rf"/tables/{events}/rows$", status=404),
        Fault("status", path_re=rf"/tables/{risks}/columns$", status=403),
        Fault("status", path_re=rf"/tables/{backlog}$", status=503),  # 5xx for ever
        Fault("status", path_re=rf"/pages/{q3}/export$", method="POST", status=410),
        Fault("status", path_re=rf"/pages/{deepest}/export/", status=404),  # never replicates
    ]
    run = run_faulty(start_fake, tmp_path, ws, faults)
    failures = check(
        run,
        {
            ("table", ws.tagged("table.people")[1].id): 403,
            ("rows", ws.tagged("table.events")[1].id): 404,
            ("columns", ws.tagged("table.empty")[1].id): 403,
            ("table", ws.tagged("table.backlog")[1].id): 503,
            ("page_content", ws.tagged("page.q3")[1].id): 410,
            ("page_content", ws.tagged("page.deepest")[1].id): 404,
        },
    )
    backlog_failure = failures[("table", ws.tagged("table.backlog")[1].id)]
    assert backlog_failure["attempts"] == TAP["max_retries"] + 1
    assert backlog_failure["name"] == ws.tagged("table.backlog")[1].name
    assert failures[("table", ws.tagged("table.people")[1].id)]["attempts"] == 1


def test_export_stuck_or_failing_and_dead_links_for_ever(
    start_fake: StartFake, tmp_path: Path
) -> None:
    ws = build_test_workspace(0)
    _, launch = path_of(ws, "page.launch")
    _, timeline = path_of(ws, "page.timeline")
    _, dotdot = path_of(ws, "page.dotdot")
    _, nfc = path_of(ws, "page.nfc")
    faults = [
        Fault("export_stuck", path_re=rf"/pages/{launch}/export/"),
        Fault("export_fail", path_re=rf"/pages/{timeline}/export/"),
        Fault("dead_link_403", path_re=rf"^/blobs/.*/{dotdot}/"),
        Fault("dead_link_200", path_re=rf"^/blobs/.*/{nfc}/"),
    ]
    # The deadline covers the download too (issue #12): 3 s leaves a loaded machine room
    # to download the other pages, dead links and their fresh ones included.
    run = run_faulty(start_fake, tmp_path, ws, faults, {"export_timeout": 3})
    failures = check(
        run,
        {
            ("page_content", ws.tagged("page.launch")[1].id): None,  # our own deadline
            ("page_content", ws.tagged("page.timeline")[1].id): None,  # Coda said failed
            ("page_content", ws.tagged("page.dotdot")[1].id): 403,
            ("page_content", ws.tagged("page.nfc")[1].id): 200,  # NoSuchKey XML with a 200
        },
    )
    assert (
        "did not finish within 3 s"
        in failures[("page_content", ws.tagged("page.launch")[1].id)]["error"]
    )
    assert "export failed" in failures[("page_content", ws.tagged("page.timeline")[1].id)]["error"]


def test_doc_stale_for_ever_is_retried_then_recorded(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_test_workspace(0)
    wide = ws.doc(ws.tags["doc.wide"])
    faults = [Fault("stale", path_re=rf"/docs/{re.escape(wide.id)}/")]
    run = run_faulty(start_fake, tmp_path, ws, faults, {"strict_latest": True})
    # Every read of that doc is refused, its formulas, controls and sharing too.
    logic = ("formulas", "controls", "permissions", "sharing settings", "sharing metadata")
    expected = {(what, wide.id): 400 for what in ("pages", "tables", *logic)}
    failures = check(run, expected)
    for key in [("pages", wide.id), ("tables", wide.id)]:
        assert failures[key]["attempts"] == TAP["max_retries"] + 1
        assert "not yet up to date" in failures[key]["error"]


# -- a token revoked in the middle of a run --------------------------------------------------


def test_401_mid_run_stops_cleanly_and_leaves_earlier_runs(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """Decision (docs/RELIABILITY.md): nothing of the broken run is kept. The tap stops at
    the first 401 (exit 1); the target never sees the closing `failures` stream, so its
    partial folder is removed and no state is written; coda-backup says why in one line."""
    ws = build_demo_workspace()
    output = tmp_path / "backups"
    env = {"CODA_BACKUP_TAP_SETTINGS": json.dumps({**FAST_TAP, "request_timeout": 5})}
    with start_fake(ws, token=TOKEN) as fake:
        first = run_coda_backup(output=output, fake=fake, token=TOKEN, env=env)
        assert first.returncode == 0, first.stderr
        requests_per_run = len(fake.log)
    state_before = (output / "state.json").read_bytes()
    revoked = Fault("status", path_re="^/apis/v1/", status=401, after=requests_per_run // 2)
    with start_fake(ws, token=TOKEN, faults=[revoked]) as fake:
        result = run_coda_backup(output=output, fake=fake, token=TOKEN, env=env)
        assert fake.fault_hits[0] >= 1
        assert fake.count(status=200) > 10  # it was mid-run: much had been read
        lines = message_lines(result.stderr)
        assert result.returncode == 1, result.stderr
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("coda-backup: error: tap-coda failed: "), lines[0]
        assert "401" in lines[0]
        assert result.latest == first.latest
        assert (output / "state.json").read_bytes() == state_before
        assert sorted(p.name for p in output.iterdir()) == sorted(
            [first.latest, "latest", "latest.txt", "state.json", ".coda-backup.lock"]
        )

    # The same through a shell pipe: both exit 1, nothing promoted, no partial left.
    with start_fake(ws, token=TOKEN, faults=[revoked]) as fake:
        piped = run_pipe(
            {"api_url": fake.url, **FAST_TAP},
            {"output_dir": str(output)},
            tmp_path / "work",
            token=TOKEN,
        )
    assert (piped.tap_returncode, piped.target_returncode) == (1, 1)
    assert "Coda rejected the API token (401 Unauthorized)" in piped.tap_stderr
    assert "tap-coda never finished: no STATE after its closing `failures`" in piped.target_stderr
    assert piped.final_state is None
    assert (output / "latest.txt").read_text(encoding="utf-8").strip() == first.latest
    assert [p.name for p in output.iterdir() if p.name.startswith(".")] == [".coda-backup.lock"]
    assert_no_token_anywhere(tmp_path, result.stderr, piped.tap_stderr, piped.target_stderr)


# -- one in five requests fails -------------------------------------------------------------


def test_a_fifth_of_all_requests_failing_still_gives_a_complete_backup(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """Every request (API and downloads) has a ~20 % chance of a 429, 502, 503 or reset;
    with enough retries the backup is the ground truth, and only Coda's own refusals are
    failures. Run through coda-backup at debug level: the token is in no log line."""
    ws = build_test_workspace(0)
    faults = [
        Fault("429", probability=0.06),
        Fault("status", status=502, probability=0.04),
        Fault("status", status=503, probability=0.04),
        Fault("reset", probability=0.07),
    ]
    output = tmp_path / "backups"
    settings = {**TAP, "max_retries": 15, "backoff_base_seconds": 0.001}
    env = {"CODA_BACKUP_TAP_SETTINGS": json.dumps(settings)}
    with start_fake(ws, token=TOKEN, faults=faults, seed=11) as fake:
        result = run_coda_backup(
            "--include-shared",
            "--log-level",
            "debug",
            output=output,
            fake=fake,
            token=TOKEN,
            env=env,
        )
        faulted = [e for e in fake.log if e.fault]
        assert len(faulted) >= 0.1 * len(fake.log), (len(faulted), len(fake.log))
        assert {e.fault for e in faulted} == {"429", "status", "reset"}
        assert any(e.rate_class == "blob" for e in faulted)
        assert result.returncode == 3, result.stderr[-3000:]  # Coda's own refusals only
        tree = Tree(result.run_dir, ws, fake.url)
    docs = listed_docs(ws)
    failures = check_run(tree, docs)
    assert {(f["object_type"], f["object_id"] or f["doc_id"]) for f in failures} == (
        baseline_failures(docs)
    )
    state = json.loads((output / "state.json").read_text(encoding="utf-8"))
    assert state["run_id"] == result.latest
    assert "Retrying" in result.stderr  # debug shows the retries…
    assert_no_token_anywhere(tmp_path, result.stderr, result.stdout)  # …never the token


# -- privacy --------------------------------------------------------------------------------


def modes(root: Path) -> set[tuple[str, int]]:
    return {
        ("dir" if p.is_dir() else "file", stat.S_IMODE(p.lstat().st_mode))
        for p in [root, *root.rglob("*")]
        if not p.is_symlink()
    }


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_run_folders_are_private_unless_relaxed(start_fake: StartFake, tmp_path: Path) -> None:
    ws = build_demo_workspace()
    old_umask = os.umask(0o022)
    try:
        with start_fake(ws, token=TOKEN) as fake:
            tap = {"api_url": fake.url, **FAST_TAP}
            private = tmp_path / "private"
            run_pipe(tap, {"output_dir": str(private)}, tmp_path / "w1", token=TOKEN).check()
            shared = tmp_path / "shared"
            run_pipe(
                tap, {"output_dir": str(shared), "private": False}, tmp_path / "w2", token=TOKEN
            ).check()
            by_backup = run_coda_backup(output=tmp_path / "cb", fake=fake, token=TOKEN)
            assert by_backup.returncode == 0, by_backup.stderr
    finally:
        os.umask(old_umask)
    for root in (private, tmp_path / "cb"):
        # latest.txt (and state.json) 0600; a finished run's files read-only
        assert modes(root) == {("dir", 0o700), ("file", 0o600), ("file", 0o400)}, root
    run = next(p for p in shared.iterdir() if p.is_dir() and not p.is_symlink())
    # the umask decides for folders; finished files are read-only for all (0444)
    assert modes(run) == {("dir", 0o755), ("file", 0o444)}
    assert_no_token_anywhere(tmp_path)


def test_a_token_that_cannot_be_sent_is_never_shown(start_fake: StartFake, tmp_path: Path) -> None:
    """http.client refuses a header with a line break and quotes it, token included, in
    its error: tap-coda redacts it and stops with one line."""
    token = "tok-FAULTS\nsEcReT-line-2-5e8a1d27"
    with start_fake(build_demo_workspace(), token=TOKEN) as fake:
        result = run_coda_backup(output=tmp_path / "b", fake=fake, token=token)
        assert not fake.log  # refused before anything was sent
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1
    assert len(lines) == 1, result.stderr
    assert "the API token cannot be sent" in lines[0]
    assert "[redacted]" in lines[0]
    for piece in token.split("\n"):
        assert piece not in result.stderr


# -- a full disk, a read-only folder ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> t.Iterator[Path]:
    """A real 1 MiB file system (tmpfs): room for the demo backup, not for two.
    Mounting needs root (CI containers run as root); elsewhere the test is skipped."""
    where = tmp_path / "disk"
    where.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1024k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def one_error_line(text: str) -> str:
    """The one line that says why the run failed. The tap's warnings about objects it
    could not back up (the test workspace's broken page) may come first: whether they do
    depends on how far the tap got when the disk filled, so they are not counted."""
    lines = [line for line in message_lines(text) if "| WARNING " not in line]
    assert "Traceback" not in text, text
    assert len(lines) == 1, text
    return lines[0]


def test_full_disk_and_read_only_folder_give_one_line(
    start_fake: StartFake, small_disk: Path, tmp_path: Path
) -> None:
    output = small_disk / "backups"
    with start_fake(build_demo_workspace(), token=TOKEN) as fake:
        first = run_coda_backup(output=output, fake=fake, token=TOKEN)
        assert first.returncode == 0, first.stderr
    before = sorted(p.name for p in output.iterdir())
    state_before = (output / "state.json").read_bytes()

    with start_fake(build_test_workspace(0), token=TOKEN) as fake:
        full = run_coda_backup("--include-shared", output=output, fake=fake, token=TOKEN)
    assert full.returncode == 1
    line = one_error_line(full.stderr)
    assert line.startswith("coda-backup: error: target-files failed: ")
    assert "No space left on device" in line
    assert sorted(p.name for p in output.iterdir()) == before  # the partial run is gone
    assert (output / "state.json").read_bytes() == state_before
    assert full.latest == first.latest

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with start_fake(build_demo_workspace(), token=TOKEN) as fake:
        piped = run_pipe(
            {"api_url": fake.url, **FAST_TAP},
            {"output_dir": str(output)},
            tmp_path / "w",
            token=TOKEN,
        )
        by_backup = run_coda_backup(output=output, fake=fake, token=TOKEN)
    assert piped.target_returncode == 1
    errors = "\n".join(line for line in piped.target_stderr.splitlines() if "| ERROR" in line)
    assert "Read-only file system" in one_error_line(errors)
    assert "Traceback" not in piped.target_stderr
    assert by_backup.returncode == 1
    assert "Read-only file system" in one_error_line(by_backup.stderr)
    assert sorted(p.name for p in output.iterdir()) == before
