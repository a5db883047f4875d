"""A doc's logic and sharing, and the folders, through `tap-coda | target-files` (issue #14).

One full run of the test workspace with shared docs, then an incremental run after formula
and control values changed (Coda moves no `updatedAt` for that). Every expectation is the
fake's ground truth rendered as it serves it (`fakecoda.doclogic`), never typed in.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakecoda import FakeCoda, build_test_workspace, doclogic
from tests.e2e.tree import doc_dir, listed_docs, readable_docs
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, PipeResult, run_pipe

if t.TYPE_CHECKING:
    from fakecoda import Doc

TOKEN = "tok-LOGIC-sEcReT-51c0de77"


@dataclass
class Runs:
    fake: FakeCoda
    first: Path
    second: Path
    second_result: PipeResult
    changed: dict[str, t.Any]  # formula/control id -> the value set between the runs
    #: (doc id, "formulas"/"controls") -> the objects as served during the first run
    first_served: dict[tuple[str, str], list[dict[str, t.Any]]]

    @property
    def run(self) -> Path:  # tests.e2e.tree's RunTree
        return self.first

    @property
    def ws(self) -> t.Any:
        return self.fake.workspace


def load(path: Path) -> t.Any:
    return json.loads(path.read_text(encoding="utf-8"))


def latest(output: Path) -> Path:
    return output / (output / "latest.txt").read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def runs(
    start_module_fake: StartFake, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[Runs]:
    root = tmp_path_factory.mktemp("logic")
    output = root / "backups"
    ws = build_test_workspace(seed=0)
    with start_module_fake(ws, token=TOKEN, page_clamp=3) as fake:
        tap = {"api_url": fake.url, **FAST_TAP, "include_shared": True}
        target = {"output_dir": str(output)}
        first = run_pipe(tap, target, root / "w1", token=TOKEN).check()
        first_run = latest(output)
        first_served = {
            (doc.id, kind): served(fake.url, doc, kind)
            for doc in readable_docs(ws)
            for kind in ("formulas", "controls")
        }
        main = ws.doc(ws.tags["doc.main"])
        changed = {main.formulas[0].id: 99.5, main.controls[2].id: "APAC"}
        before = main.updated_at
        for object_id, value in changed.items():
            doclogic.set_value(ws, main.id, object_id, value)
        assert main.updated_at == before  # what makes it hard: nothing says it changed
        second = run_pipe(tap, target, root / "w2", token=TOKEN, state=first.final_state)
        second.check()
        yield Runs(fake, first_run, latest(output), second, changed, first_served)


def served(base: str, doc: Doc, kind: str) -> list[dict[str, t.Any]]:
    items = doc.formulas if kind == "formulas" else doc.controls
    return [doclogic.detail(doc, item, base) for item in items]


def test_formulas_and_controls_are_as_served_with_their_values(runs: Runs) -> None:
    for doc in readable_docs(runs.ws):
        folder = doc_dir(runs, doc)
        for kind in ("formulas", "controls"):
            assert load(folder / f"{kind}.json") == runs.first_served[(doc.id, kind)]


def test_values_changed_without_updated_at_are_read_again(runs: Runs) -> None:
    doc = runs.ws.doc(runs.ws.tags["doc.main"])
    second = runs.second / doc_dir(runs, doc).relative_to(runs.first)
    for kind in ("formulas", "controls"):
        got = load(second / f"{kind}.json")
        assert got == served(runs.fake.url, doc, kind)
        assert got != runs.first_served[(doc.id, kind)]
        values = {item["id"]: item["value"] for item in got}
        for object_id, value in runs.changed.items():
            if object_id in values:
                assert values[object_id] == value


def test_permissions_and_sharing_of_owned_docs(runs: Runs) -> None:
    owned = [d for d in readable_docs(runs.ws) if d.is_owner]
    assert owned
    for doc in owned:
        folder = doc_dir(runs, doc)
        assert doc.sharing is not None
        assert load(folder / "permissions.json") == doc.sharing.permissions
        assert load(folder / "sharing.json") == {
            "settings": doc.sharing.settings,
            "metadata": doc.sharing.metadata,
        }


def test_a_shared_docs_acl_is_a_skip_with_its_reason(runs: Runs) -> None:
    summary = load(runs.first / "summary.json")
    shared = [d for d in readable_docs(runs.ws) if not d.is_owner]
    assert shared
    skips = {(s["object_type"], s["doc_id"]): s for s in summary["skips"]}
    for doc in shared:
        folder = doc_dir(runs, doc)
        assert not (folder / "permissions.json").exists()  # not a partial list
        assert doc.sharing is not None
        assert load(folder / "sharing.json") == {
            "settings": None,
            "metadata": doc.sharing.metadata,
        }
        for what in ("permissions", "sharing settings"):
            skip = skips[(what, doc.id)]
            assert skip["reason"] == "no_sharing_rights"
            assert skip["http_status"] == 403
    logic = {"formula", "formulas", "control", "controls", "permissions", "sharing", "folders"}
    assert not [f for f in summary["failures"] if f["object_type"] in logic]


def test_folders_at_the_runs_root(runs: Runs) -> None:
    assert load(runs.first / "folders.json") == doclogic.folders(runs.ws)
    folder_ids = {f["id"] for f in load(runs.first / "folders.json")}
    assert {d.folder_id for d in listed_docs(runs.ws)} <= folder_ids


def test_the_manifest_lists_the_new_files(runs: Runs) -> None:
    files = load(runs.first / "manifest.json")["files"]
    assert "folders.json" in files
    for doc in readable_docs(runs.ws):
        rel = doc_dir(runs, doc).relative_to(runs.first).as_posix()
        assert {f"{rel}/formulas.json", f"{rel}/controls.json", f"{rel}/sharing.json"} <= set(files)
