"""The `failures` record is laid out twice, by the tap (`tap_coda/ledger.py`) and by the
target for its own findings (`target_files/outcomes.py`): both must be the fields
docs/RECORDS.md documents, in its order."""

from __future__ import annotations

import re
from pathlib import Path

from tap_coda.ledger import RunLedger
from target_files import outcomes

RECORDS = Path(__file__).resolve().parents[2] / "docs" / "RECORDS.md"


def documented_fields() -> list[str]:
    row = next(
        line
        for line in RECORDS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `failures` |")
    )
    fields = row.rstrip(" |").split(" | ")[-1]
    while re.search(r"\([^()]*\)", fields):  # drop the explanations (values in backticks)
        fields = re.sub(r"\([^()]*\)", "", fields)
    return re.findall(r"`([a-z_]+)`", fields)


def test_records_md_names_the_fields() -> None:
    assert {"object_type", "doc_id", "object_id", "error"} <= set(documented_fields())


def test_the_tap_lays_out_the_documented_fields() -> None:
    ledger = RunLedger()
    ledger.record_failure(object_type="rows", doc_id="d", object_id="t", name="T", error="e")
    assert list(ledger.failures[0]) == documented_fields()


def test_the_target_lays_out_the_documented_fields_first() -> None:
    record = outcomes.failure("rows", "d", "t", "T", "e", path="x.csv")
    fields = documented_fields()
    assert list(record)[: len(fields)] == fields
    assert set(record) - set(fields) == {"reported_by", "path"}
