"""Bookmark partitions found through a dict, not by scanning them all (issue #17).

singer-sdk keeps a stream's partitions (one per page, one per table for tap-coda) in a list
and finds one by comparing every entry's context with the one wanted, several times per
child context: O(partitions) each time, so O(pages²) for a run; at 10,000 pages that was
tens of seconds of the tap's CPU. `IndexedStateManager` gives the same answers from an
index of the same list: the same partition dicts, created and appended the same way,
so the state's layout and every reader of it stay as they are.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Stream
from singer_sdk.streams._state import StreamStateManager

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

_Key = tuple[tuple[str, t.Any], ...]


def _key(context: t.Mapping[str, t.Any]) -> _Key | None:
    try:
        key = tuple(sorted(context.items()))
        hash(key)
    except TypeError:
        return None  # an unhashable value: singer-sdk's scan handles it
    return key


class IndexedStateManager(StreamStateManager):
    """singer-sdk's state manager whose partition lookup is a dict hit."""

    _index: dict[_Key, dict[str, t.Any]]
    _indexed: list[dict[str, t.Any]] | None = None  # the partitions list indexed
    _indexed_len = 0

    def get_context_state(self, context: types.Context | None) -> dict[str, t.Any]:
        partition = self.get_state_partition_context(context)
        key = _key(partition) if partition else None
        if not partition or key is None:
            return super().get_context_state(context)
        partitions: list[dict[str, t.Any]] = self.stream_state.setdefault("partitions", [])
        stale = partitions is not self._indexed or len(partitions) != self._indexed_len
        if stale and not self._reindex(partitions):
            return super().get_context_state(context)  # duplicates: let it raise
        found = self._index.get(key)
        if found is None:
            found = {"context": dict(partition)}  # as singer-sdk creates one
            partitions.append(found)
            self._index[key] = found
            self._indexed_len += 1
        return found

    def _reindex(self, partitions: list[dict[str, t.Any]]) -> bool:
        """Index `partitions` (the input state's, or changed behind our back)."""
        index: dict[_Key, dict[str, t.Any]] = {}
        for entry in partitions:
            key = _key(entry.get("context") or {})
            if key is None or key in index:
                self._indexed = None
                return False
            index[key] = entry
        self._index, self._indexed, self._indexed_len = index, partitions, len(partitions)
        return True


def indexed_state_manager(stream: Stream) -> StreamStateManager:
    """What `Stream.state_manager` builds, indexed."""
    return IndexedStateManager(
        tap_name=stream.tap_name,
        stream_name=stream.name,
        tap_state=stream.tap_state,
        state_partitioning_keys=stream.state_partitioning_keys,
        is_sorted=stream.is_sorted,
        check_sorted=stream.check_sorted,
    )


class IndexedStateStream(Stream):
    """A singer-sdk stream (mixed in before the concrete base) with the indexed manager."""

    @property
    def state_manager(self) -> StreamStateManager:
        if self._state_manager is None:
            self._state_manager = indexed_state_manager(self)
        return self._state_manager
