"""tap_coda.pipeline.ExportPipeline: a doc's page listing is handed over once, then let go
(held to the end of a 10,000-page run, the listings were 29 MB of the tap's peak)."""

from __future__ import annotations

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
