"""Bookmarks dropped from the Singer STATE the target emits, so that an object whose copy
in `latest` was found damaged is fetched again in full by the next run (Meltano's or
coda-backup's) instead of being carried, and failing, for ever.

tap-coda keys them (tap_coda/pipeline.py): a page's export under
`bookmarks.page_contents.partitions[].context` = {doc_id, page_id, format}, a table's rows
under `bookmarks.rows.partitions[].context` = {doc_id, table_id}.
"""

from __future__ import annotations

import copy
import typing as t

#: manifest object type → (tap stream, the context key of the object id)
STREAMS = {"page": ("page_contents", "page_id"), "table": ("rows", "table_id")}


def without_damaged(
    state: t.Mapping[str, t.Any], damaged: t.Iterable[t.Mapping[str, t.Any]]
) -> dict[str, t.Any]:
    """`state` without the partitions of the damaged pages and tables (a copy)."""
    drop: dict[str, set[tuple[str, str]]] = {}
    for d in damaged:
        stream, key = STREAMS.get(str(d.get("object_type")), (None, None))
        if stream and key:
            drop.setdefault(stream, set()).add((str(d.get("doc_id")), str(d.get("object_id"))))
    out = copy.deepcopy(dict(state))
    for stream, ids in drop.items():
        key = STREAMS["page" if stream == "page_contents" else "table"][1]
        stream_state = (out.get("bookmarks") or {}).get(stream)
        if not isinstance(stream_state, dict):
            continue
        partitions = stream_state.get("partitions") or []
        stream_state["partitions"] = [
            p
            for p in partitions
            if (str((p.get("context") or {}).get("doc_id")), str((p.get("context") or {}).get(key)))
            not in ids
        ]
    return out
