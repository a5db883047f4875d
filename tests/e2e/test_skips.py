"""What Coda can never serve is a skip, not a failure: through the real tap.

Sync pages, embeds and table pages cannot be exported, and a doc over the API size limit
keeps only its metadata; every run meets them again, so they are `failures` records of
kind `skip` with their reason. `skips_as_failures` turns them back into failures.
"""

from __future__ import annotations

import typing as t

import pytest

from fakecoda import build_test_workspace
from tests.e2e.backup_cli import TOKEN
from tests.e2e.tree import listed_docs
from tests.e2e.truth import baseline_failures
from tests.helpers import FAST_TAP, SingerOutput, run_tap

if t.TYPE_CHECKING:
    from pathlib import Path

    from fakecoda import FakeCoda

REASONS = {"doc": "over_api_size_limit", "page_content": "unexportable_page"}


@pytest.mark.parametrize("as_failures", [False, True], ids=["skips", "skips_as_failures"])
def test_unservable_objects_are_skips_with_their_reason(
    as_failures: bool, start_fake: t.Callable[..., FakeCoda], tmp_path: Path
) -> None:
    ws = build_test_workspace()
    fake = start_fake(ws)
    config = {"api_url": fake.url, **FAST_TAP, "skips_as_failures": as_failures}
    proc = run_tap(config, tmp_path, token=TOKEN)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failures = SingerOutput.parse(proc.stdout).of("failures")

    docs = [d for d in listed_docs(ws) if d.is_owner]  # include_shared is off
    # What Coda can never serve, from the fake's own workspace; the rest of a fault-free
    # run's failures are real ones (a canvas page whose export fails on Coda's side).
    skips = {("doc", d.id) for d in docs if d.over_api_size_limit} | {
        ("page_content", p.id)
        for d in docs
        if not d.over_api_size_limit
        for p in d.pages
        if p.content_type != "canvas"
    }
    real = baseline_failures(docs) - skips
    assert skips and real, "the test workspace holds both"
    by_object = {(f["object_type"], f["object_id"]): f for f in failures}
    assert set(by_object) == skips | real
    for key in skips:
        assert by_object[key]["kind"] == ("failure" if as_failures else "skip"), by_object[key]
        assert by_object[key]["reason"] == REASONS[key[0]], by_object[key]
    for key in real:
        assert (by_object[key]["kind"], by_object[key]["reason"]) == ("failure", None)
