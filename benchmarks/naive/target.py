"""A naive singer-sdk CSV target: a BatchSink that holds every row until the end of input.

Like MeltanoLabs target-csv (`MAX_SIZE_DEFAULT = sys.maxsize`: one batch, written at the
end with csv.DictWriter); it only spreads `values` into one column per Coda column so the
file matches what target-files writes.

    python -m benchmarks.naive.target --config CONFIG   (output_path)
"""

from __future__ import annotations

import csv
import json
import sys
import typing as t
from pathlib import Path

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink

PREFIX = ("id", "name", "index", "createdAt", "updatedAt", "browserLink")


def cell(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else value


class CSVSink(BatchSink):
    MAX_SIZE_DEFAULT = sys.maxsize  # every record in one batch, drained at the end

    def process_batch(self, context: dict) -> None:
        records: list[dict] = context.get("records") or []
        columns: list[str] = []
        seen: set[str] = set()
        for record in records:
            for key in record.get("values") or {}:
                if key not in seen:
                    seen.add(key)
                    columns.append(key)
        path = Path(self.config["output_path"]) / f"{self.stream_name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*PREFIX, *columns], dialect="excel")
            writer.writeheader()
            for record in records:
                row = {key: cell(record.get(key)) for key in PREFIX}
                for key, value in (record.get("values") or {}).items():
                    row[key] = cell(value)
                writer.writerow(row)


class NaiveTarget(Target):
    name = "naive-target-csv"
    default_sink_class = CSVSink
    config_jsonschema = th.PropertiesList(
        th.Property("output_path", th.StringType, required=True),
    ).to_dict()


if __name__ == "__main__":
    NaiveTarget.cli()
