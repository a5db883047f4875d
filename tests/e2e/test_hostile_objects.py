"""API objects that are not what the spec says (issue #12): no single object takes a run
down. Through the mangling proxy (real HTTP), one object of the fake's answers gets a field
of another type, a null, or no field at all; the run finishes, and every other doc is the
fake's ground truth. A Hypothesis property drives it over every kind of object the fake
serves; named cases pin the failures a user sees.
"""

from __future__ import annotations

import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakecoda import FakeCoda, build_demo_workspace, build_named_workspace
from tests.e2e import mangler
from tests.e2e.mangler import Mangler, Rule
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, check_run
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_pipe

if t.TYPE_CHECKING:
    from fakecoda import Doc

TOKEN = "tok-OBJECTS-sEcReT-0b7e"
TAP = {**FAST_TAP, "request_timeout": 5, "export_timeout": 20, "max_retries": 1}
#: Values of every JSON type; a field gets one of a type other than its own.
VALUES: list[object] = [None, 0, 7, 1.5, True, "text", [], ["a", 1], {}, {"id": 3}]
#: Per kind, the fields a case may change: those the tap and target read, and a few others.
FIELDS = {
    "doc": ["id", "name", "updatedAt", "docSize", "workspace", "browserLink", "owner"],
    "page": ["id", "name", "updatedAt", "parent", "contentType", "isEffectivelyHidden", "href"],
    "table": ["id", "name", "tableType", "parent", "rowCount", "updatedAt", "parentTable"],
    "column": ["id", "name", "format", "display", "calculated"],
    "row": ["id", "name", "index", "values", "createdAt", "updatedAt"],
}


@dataclass
class Others(Tree):
    """The run folder, its failures narrowed to the docs the case did not touch."""

    kept: frozenset[str] = frozenset()

    @property
    def failures(self) -> list[dict[str, t.Any]]:
        return [f for f in super().failures if f["doc_id"] in self.kept]


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    return start_module_fake(build_demo_workspace(), token=TOKEN)


def objects_of(doc: Doc, kind: str) -> list[t.Any]:
    if kind == "doc":
        return [doc]
    if kind == "page":
        return list(doc.pages)
    tables = [tb for tb in doc.tables if tb.table_type == "table"]
    if kind == "table":
        return list(doc.tables)
    if kind == "column":
        return [c for tb in tables for c in tb.columns]
    return [r for tb in tables for r in tb.rows]


def run_mutated(
    fake: FakeCoda, root: Path, object_id: str, field: str, value: object
) -> tuple[Tree, list[dict[str, t.Any]]]:
    """One run with that object's field changed; the run must finish (exit 0, promoted).
    Returns the run folder and all its failures."""
    rule = Rule(r"^/apis/v1/", mangler.mutate(object_id, field, value))
    output = root / "backups"
    with Mangler(fake, [rule]) as proxy:
        result = run_pipe(
            {"api_url": proxy.url, **TAP},
            {"output_dir": str(output)},
            root / "work",
            token=TOKEN,
            timeout=300,
        )
    result.check()
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    tree = Tree(output / latest, fake.workspace, fake.url)
    return tree, tree.failures


def check_others(tree: Tree, touched: Doc) -> None:
    """Every doc but the touched one is the ground truth, byte for byte."""
    others = [d for d in listed_docs(tree.ws) if d.id != touched.id]
    check_run(Others(tree.run, tree.ws, tree.base, frozenset(d.id for d in others)), others)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Doc, str, str, str, object]:
    ws = build_demo_workspace()
    doc = draw(st.sampled_from(listed_docs(ws)))
    kind = draw(st.sampled_from([k for k in FIELDS if objects_of(doc, k)]))
    obj = draw(st.sampled_from(objects_of(doc, kind)))
    field = draw(st.sampled_from(FIELDS[kind]))
    value = draw(st.sampled_from([*VALUES, mangler.MISSING]))
    return doc, kind, obj.id, field, value


@settings(
    max_examples=16,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_any_field_of_any_object_changed_leaves_the_rest_intact(
    fake: FakeCoda, case: tuple[Doc, str, str, str, object]
) -> None:
    doc, _, object_id, field, value = case
    with tempfile.TemporaryDirectory() as root:
        tree, _ = run_mutated(fake, Path(root), object_id, field, value)
        check_others(tree, doc)


NAMED = [
    pytest.param(("page", "name", None, "the page's 'name' is null, not a"), id="null-name"),
    pytest.param(("page", "updatedAt", 1700000000, "'updatedAt' is integer"), id="number-date"),
    pytest.param(("page", "id", mangler.MISSING, "the page's 'id' is missing"), id="no-id"),
    pytest.param(("table", "rowCount", "12", "'rowCount' is string, not"), id="text-count"),
    pytest.param(("doc", "name", None, "the doc's 'name' is null"), id="null-doc-name"),
]


@pytest.mark.parametrize("case", NAMED)
def test_an_object_the_tap_cannot_rely_on_is_a_failure_that_says_why(
    fake: FakeCoda, tmp_path: Path, case: tuple[str, str, object, str]
) -> None:
    kind, field, value, says = case
    doc = listed_docs(fake.workspace)[0]
    obj = objects_of(doc, kind)[1 if kind == "page" else 0]
    tree, failures = run_mutated(fake, tmp_path, obj.id, field, value)
    check_others(tree, doc)
    mine = [f for f in failures if says in f["error"]]
    assert len(mine) == 1, failures
    assert mine[0]["attempts"] == 1  # an answer's shape does not change on a retry


def test_names_of_ten_thousand_characters_back_up_completely(
    start_fake: StartFake, tmp_path: Path
) -> None:
    long = "Ω" * 10_000
    ws = build_named_workspace([long], [long, "ok"], [long], (long, "Name"))
    fake = start_fake(ws, token=TOKEN)
    output = tmp_path / "backups"
    run_pipe(
        {"api_url": fake.url, **TAP},
        {"output_dir": str(output)},
        tmp_path / "work",
        token=TOKEN,
    ).check()
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    assert check_run(Tree(output / latest, ws, fake.url), listed_docs(ws)) == []
