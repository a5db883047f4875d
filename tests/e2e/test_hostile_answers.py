"""Hostile answers (issue #12): `tap-coda | target-files` through a mangling proxy in front
of the fake Coda API, real HTTP both ways.

Each case makes one object's answer hostile: the run finishes, that object is a failure
with a clear reason (or, for bytes that are not UTF-8, kept as served), everything else
equals the fake's ground truth, and no process of the run grew past 200 MB resident.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakecoda import FakeCoda, build_demo_workspace
from fakecoda.render import export_content
from tests.e2e import mangler
from tests.e2e.mangler import Mangler, Rule
from tests.e2e.measured import Measured, measured_pipe
from tests.e2e.tree import listed_docs
from tests.e2e.truth import Tree, baseline_failures, check_run
from tests.fakes import StartFake
from tests.helpers import FAST_TAP, run_pipe

TOKEN = "tok-HOSTILE-sEcReT-91c4"
TAP = {**FAST_TAP, "request_timeout": 5, "export_timeout": 8, "max_retries": 2}
#: Peak resident memory allowed to each process of a run (tap, target), in MiB.
MAX_RSS_MB = 200


@pytest.fixture(scope="module")
def fake(start_module_fake: StartFake) -> FakeCoda:
    mangler.gzip_bomb()  # made now: a run must not wait for it
    return start_module_fake(build_demo_workspace(), token=TOKEN)


@dataclass
class Target:
    """The object a case makes hostile, and where its answers are."""

    kind: str  # failure object_type
    object_id: str
    path_re: str


def page_target(fake: FakeCoda, what: str) -> Target:
    doc = fake.workspace.docs[0]
    page = doc.pages[1]
    where = {
        "blob": rf"^/blobs/DOC_EXPORT_RENDERING/{page.id}/",
        "status": rf"/pages/{page.id}/export/[^/]+$",
    }[what]
    return Target("page_content", page.id, where)


def table_target(fake: FakeCoda) -> Target:
    table = fake.workspace.docs[2].tables[1]
    return Target("table", table.id, rf"/tables/{table.id}$")


def run(fake: FakeCoda, tmp_path: Path, rules: list[Rule], **tap: t.Any) -> tuple[Tree, Measured]:
    output = tmp_path / "backups"
    with Mangler(fake, rules) as proxy:
        result = measured_pipe(
            {"api_url": proxy.url, **TAP, **tap},
            {"output_dir": str(output)},
            tmp_path / "work",
            token=TOKEN,
            timeout=300,
        )
    result.check()
    assert all(rule.hits for rule in rules), "the hostile answer was never asked for"
    # Each process's own peak (wait4 in a small launcher), not the largest child this
    # test worker ever waited for (a browser or Meltano of an earlier test would count).
    assert all(mb < MAX_RSS_MB for mb in result.peak_mb.values()), result.peak_mb
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    return Tree(output / latest, fake.workspace, fake.url), result


def failed_with(
    tree: Tree, target: Target, *, served: dict[str, bytes] | None = None
) -> dict[str, t.Any] | None:
    """Everything but `target` is the ground truth; `target` alone is a failure; returns it."""
    docs = listed_docs(tree.ws)
    failures = check_run(tree, docs, served=served)
    extra = {(f["object_type"], f["object_id"]) for f in failures} - baseline_failures(docs)
    if served:
        assert extra == set(), extra
        return None
    assert extra == {(target.kind, target.object_id)}, extra
    return next(f for f in failures if f["object_id"] == target.object_id)


DOWNLOADS = [
    pytest.param(mangler.bomb, "goes past the cap of 67,108,864 bytes", id="gzip-bomb"),
    pytest.param(mangler.endless, "goes past the cap", id="endless-download"),
    pytest.param(mangler.cut_short, "cut", id="cut-short-download"),
    pytest.param(mangler.trickle(0.25), "still arriving at its deadline", id="trickle"),
]


@pytest.mark.parametrize(("make", "reason"), DOWNLOADS)
def test_a_hostile_download_fails_its_page_alone(
    fake: FakeCoda, tmp_path: Path, make: t.Callable[..., mangler.Reply], reason: str
) -> None:
    target = page_target(fake, "blob")
    tree, _ = run(fake, tmp_path, [Rule(target.path_re, make)])
    failure = failed_with(tree, target)
    assert failure is not None and reason in failure["error"], failure


API_BODIES = [
    pytest.param(mangler.endless, "goes past the cap of 33,554,432 bytes", id="endless-body"),
    pytest.param(mangler.padded(300 * 1024 * 1024), "314,572,800 bytes, over", id="padded-300MB"),
    pytest.param(mangler.cut_short, "cut", id="cut-short-body"),
]


@pytest.mark.parametrize(("make", "reason"), API_BODIES)
def test_a_hostile_api_answer_fails_its_object_alone(
    fake: FakeCoda, tmp_path: Path, make: t.Callable[..., mangler.Reply], reason: str
) -> None:
    target = table_target(fake)
    tree, _ = run(fake, tmp_path, [Rule(target.path_re, make)])
    failure = failed_with(tree, target)
    assert failure is not None and reason in failure["error"], failure


def test_an_export_that_is_not_utf8_is_kept_as_served_with_a_warning(
    fake: FakeCoda, tmp_path: Path
) -> None:
    target = page_target(fake, "blob")
    tree, result = run(fake, tmp_path, [Rule(target.path_re, mangler.not_utf8)])
    doc = fake.workspace.docs[0]
    page = next(p for p in doc.pages if p.id == target.object_id)
    served = mangler.NOT_UTF8 + export_content(fake.workspace, doc, page, "markdown").encode()
    failed_with(tree, target, served={page.id: served})
    assert f"Page {page.id} export (markdown) is not UTF-8: kept as served" in result.tap_stderr
    # The run says so too, as a warning: neither a failure nor a skip of the page.
    summary = tree.summary
    assert summary["status"] == "complete"
    (warning,) = summary["warnings"]
    assert (warning["kind"], warning["reason"]) == ("warning", "not_utf8")
    assert (warning["object_type"], warning["object_id"]) == ("page_content", page.id)
    assert f"its {len(served)} bytes are kept as served" in warning["error"]
    manifest = tree.json(tree.run / "manifest.json")
    assert manifest["warnings"] == summary["warnings"]
    assert not any(f["object_id"] == page.id for f in summary["failures"] + summary["skips"])


LINKS = [
    pytest.param("http://127.0.0.1:{port}{{path}}", "is not in download_hosts", id="other-port"),
    pytest.param("http://localhost:{port}{{path}}", "is not in download_hosts", id="other-host"),
    pytest.param("file:///etc/passwd", "not an http(s) URL", id="file-url"),
]


@pytest.mark.parametrize(("link", "reason"), LINKS)
def test_a_download_link_elsewhere_is_refused_never_fetched(
    fake: FakeCoda, tmp_path: Path, link: str, reason: str
) -> None:
    target = page_target(fake, "status")
    url = link.format(port=fake.port)  # the fake itself: it would serve the real content
    before = fake.count(rate_class="blob")
    tree, _ = run(fake, tmp_path, [Rule(target.path_re, mangler.link_to(url))])
    failure = failed_with(tree, target)
    assert failure is not None and reason in failure["error"], failure
    assert "refused to fetch" in failure["error"]
    assert fake.count(rate_class="blob") - before == len(listed_pages(fake)) - 1


def test_a_redirect_elsewhere_is_reported_as_a_refused_redirect(
    fake: FakeCoda, tmp_path: Path
) -> None:
    target = page_target(fake, "blob")
    elsewhere = f"http://127.0.0.1:{fake.port}/blobs/DOC_EXPORT_RENDERING/x/y"
    tree, _ = run(fake, tmp_path, [Rule(target.path_re, mangler.redirect_to(elsewhere))])
    failure = failed_with(tree, target)
    assert failure is not None, failure
    assert "redirected (302) elsewhere" in failure["error"], failure
    assert "is not in download_hosts" in failure["error"], failure


def listed_pages(fake: FakeCoda) -> list[t.Any]:
    """Every page a run exports (canvas pages of the listed docs)."""
    from tests.e2e.tree import exportable

    return [p for d in listed_docs(fake.workspace) for p in d.pages if exportable(p)]


def test_ids_that_are_paths_stay_one_escaped_segment(start_fake: StartFake, tmp_path: Path) -> None:
    """A page id `../../../../../../tmp/x` once made the tap POST /tmp/x/export to the API
    host with the token: now it is one percent-encoded segment, and the page backs up."""
    ws = build_demo_workspace()
    doc = ws.docs[0]
    page = ws.add_page(doc.id, "Escaped", page_id="../../../../../../tmp/x")
    ws.add_page(doc.id, "Query", parent_id=page.id, page_id="a?b#c%2F/d")
    fake = start_fake(ws, token=TOKEN)
    output = tmp_path / "backups"
    run_pipe(
        {"api_url": fake.url, **TAP}, {"output_dir": str(output)}, tmp_path / "w", token=TOKEN
    ).check()
    latest = (output / "latest.txt").read_text(encoding="utf-8").strip()
    docs = listed_docs(ws)
    failures = check_run(Tree(output / latest, ws, fake.url), docs)
    assert {(f["object_type"], f["object_id"]) for f in failures} == baseline_failures(docs)
    paths = {entry.path for entry in fake.log}
    assert all(p.startswith(("/apis/v1/", "/blobs/")) for p in paths), paths
    assert not [p for p in paths if "/tmp/x" in p], paths  # the id never became a path
    exports = [p for p in paths if p.endswith("/export") and "%2F" in p]
    assert len(exports) == 2, paths
