"""The floor: one table's rows with requests + json + csv in one process, no Singer.

CODA_API_TOKEN=… python -m benchmarks.naive.bare API_URL DOC_ID TABLE_ID OUT.csv
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import requests

PREFIX = ("id", "name", "index", "createdAt", "updatedAt", "browserLink")


def cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else value


def main(argv: list[str]) -> int:
    api_url, doc_id, table_id, out = argv
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {os.environ['CODA_API_TOKEN']}"
    url = f"{api_url.rstrip('/')}/docs/{doc_id}/tables/{table_id}/rows"
    params: dict[str, object] = {"limit": 500, "valueFormat": "simpleWithArrays"}
    rows = 0
    columns: list[str] | None = None
    with Path(out).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        while True:
            response = session.get(url, params=params, timeout=60)
            response.raise_for_status()
            body = json.loads(response.content)
            for item in body["items"]:
                values = item["values"]
                if columns is None:
                    columns = list(values)
                    writer.writerow([*PREFIX, *columns])
                writer.writerow(
                    [cell(item.get(k)) for k in PREFIX] + [cell(values.get(c)) for c in columns]
                )
                rows += 1
            token = body.get("nextPageToken")
            if not token:
                break
            params = {"pageToken": token}
    print(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
