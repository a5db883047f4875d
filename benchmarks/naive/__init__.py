"""Naive baselines for CPU per row: what the same job costs when built the obvious way.

- `tap.py`: a singer-sdk tap with the SDK's defaults (RESTStream, JSONPath records,
  default record validation and serialisation) reading one table's rows endpoint.
- `target.py`: a singer-sdk BatchSink CSV target that keeps every row until the end of
  input and then writes them with csv.DictWriter, as MeltanoLabs target-csv does.
- `bare.py`: the floor: requests + json + csv in one process, no Singer at all.
"""
