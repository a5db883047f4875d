"""tap_coda.pipeline.ExportPipeline: a doc's page listing is handed over once, then let go
(held to the end of a 10,000-page run, the listings were 29 MB of the tap's peak)."""

from __future__ import annotations

import time
import typing as t

from tap_coda.pipeline import ExportPipeline


class Listing:
    """A pages stream that lists two canvas pages per doc, and counts its listings."""

    def __init__(self) -> None:
        self.listed: list[str] = []

    def request_records(self, context: dict[str, str]) -> t.Iterator[dict[str, t.Any]]:
        self.listed.append(context["doc_id"])
        for n in range(2):
            yield {"id": f"canvas-{context['doc_id']}-{n}", "contentType": "canvas"}


def test_a_listing_is_handed_over_once_then_let_go() -> None:
    pages = Listing()
    pipeline = ExportPipeline(
        t.cast("t.Any", pages),
        t.cast("t.Any", None),
        workers=1,
        formats=[],  # no exports: the listings alone
        marks={},
        keep_page=lambda page: True,
        export_options=t.cast("t.Any", {}),
    )
    try:
        pipeline.start(["d1", "d2"])
        first = pipeline.pages("d1")
        assert first is not None and [p["id"] for p in first] == ["canvas-d1-0", "canvas-d1-1"]
        assert pipeline.pages("d1") is None  # taken: the pipeline keeps no copy
        assert pipeline.pages("d2") is not None
        assert pages.listed == ["d1", "d2"]  # each doc listed once
    finally:
        pipeline.close()


class Hostile(Listing):
    """A pages stream whose first doc lists a canvas page without an id."""

    def request_records(self, context: dict[str, str]) -> t.Iterator[dict[str, t.Any]]:
        self.listed.append(context["doc_id"])
        if context["doc_id"] == "d1":
            yield {"contentType": "canvas", "name": "no id"}
        yield {"id": f"embed-{context['doc_id']}", "contentType": "embed"}


def test_a_page_without_an_id_does_not_stop_the_listing_of_the_next_docs() -> None:
    """The pages stream records that page's failure; the lister must go on (a KeyError on
    its thread left every later doc's listing unset, and the sync waiting on it)."""
    pages = Hostile()
    pipeline = ExportPipeline(
        t.cast("t.Any", pages),
        t.cast("t.Any", None),
        workers=1,
        formats=["markdown"],
        marks={},
        keep_page=lambda page: True,
        export_options=t.cast("t.Any", {}),
    )
    try:
        pipeline.start(["d1", "d2"])
        deadline = time.monotonic() + 10
        while pages.listed != ["d1", "d2"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pages.listed == ["d1", "d2"]
        first = pipeline.pages("d1")
        assert first is not None and first[0] == {"contentType": "canvas", "name": "no id"}
        assert pipeline.pages("d2") == [{"id": "embed-d2", "contentType": "embed"}]
    finally:
        pipeline.close()
