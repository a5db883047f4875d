"""How far a backup is: the one place every progress number comes from (pure, no I/O).

Done counts are the records the relay saw per stream. Totals are what tap-coda announces
as soon as it knows them, in `tap_coda.progress` log lines on stderr (which every Singer
target ignores): the number of docs once they are listed, each doc's pages and planned
exports once its pages are listed (exports start then), each doc's tables and each
table's `rowCount` once they are read ahead. A table's row estimate is replaced by the
rows it really sent when its `table_syncs` record arrives (an unchanged table sends none).

A total is never shown below its done count, and one that may still grow (not every doc
is listed yet) carries a `+`. The fraction done and the time left come from one cost
model: an export costs one write slot (Coda: 10 per 6 s) and a few reads, a table two
reads, a row 1/500 of a read (reads: 100 per 6 s). The time left is at least what the
rate limits allow for the work left, blended with the pace seen so far.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

KINDS = ("docs", "pages", "exports", "tables", "rows")
#: The relay's stream names (bytes: it never decodes) → the kind they count.
STREAM_KINDS = {
    b"docs": "docs",
    b"pages": "pages",
    b"page_contents": "exports",
    b"tables": "tables",
    b"rows": "rows",
}
RATE_WINDOW_S = 6.0
DEFAULT_LIMITS = {"read": 100.0, "write": 10.0}
ROWS_PER_READ = 500  # tap-coda asks for 500 rows a page
READS_PER_TABLE = 2  # getTable and its columns
READS_PER_EXPORT = 2  # status polls until the export is done


@dataclass
class Totals:
    """What the tap announced, per doc and per table, so a repeated line replaces."""

    docs: int | None = None
    readable_docs: int | None = None  # docs whose content is read (not over the size limit)
    pages: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc → (pages, exports)
    extra_exports: int = 0  # started ahead later: a table on the page changed
    tables: dict[str, int] = field(default_factory=dict)  # doc → tables
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (doc, table) → rows
    synced: set[tuple[str, str]] = field(default_factory=set)

    def apply(self, event: t.Mapping[str, t.Any]) -> None:
        """One announcement of the tap (the JSON of a `tap_coda.progress` line)."""
        kind = event.get("event")
        doc = str(event.get("doc", ""))
        if kind == "docs":
            self.docs = int(event["count"])
            self.readable_docs = int(event.get("readable", self.docs))
        elif kind == "pages":
            self.pages[doc] = (int(event["pages"]), int(event["exports"]))
        elif kind == "exports":
            self.extra_exports += int(event["count"])
        elif kind == "tables":
            self.tables[doc] = int(event["count"])
        elif kind == "table":
            key = (doc, str(event.get("table", "")))
            if key not in self.synced:
                self.rows[key] = int(event.get("rows") or 0)

    def table_synced(self, doc: str, table: str, rows_sent: int) -> None:
        """A table's rows are all out: its estimate becomes what it really sent."""
        self.rows[(doc, table)] = rows_sent
        self.synced.add((doc, table))


@dataclass(frozen=True)
class Count:
    done: int
    total: int | None  # None: nothing announced for this kind
    complete: bool  # False: more docs are still to be listed, the total may grow

    def text(self) -> str:
        if self.total is None:
            return f"{self.done:,}"
        return f"{self.done:,}/{self.total:,}{'' if self.complete else '+'}"


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, Count]
    failures: int
    fraction: float | None  # None: too little known yet
    eta_s: float | None
    elapsed_s: float


def _known(totals: Totals) -> dict[str, tuple[int | None, bool, float]]:
    """Per kind: the announced total, whether it is complete, and the factor that
    extrapolates it to every doc (listed docs → readable docs) for the estimates."""
    readable = totals.readable_docs
    out: dict[str, tuple[int | None, bool, float]] = {
        "docs": (totals.docs, totals.docs is not None, 1.0)
    }

    def per_doc(listed: int) -> tuple[bool, float]:
        if readable is None:
            return False, 1.0
        return listed >= readable, (readable / listed if listed else 1.0)

    done_pages, scale = per_doc(len(totals.pages))
    if totals.pages:
        out["pages"] = (sum(p for p, _ in totals.pages.values()), done_pages, scale)
        exports = sum(e for _, e in totals.pages.values()) + totals.extra_exports
        out["exports"] = (exports, done_pages, scale)
    done_tables, scale = per_doc(len(totals.tables))
    if totals.tables:
        n_tables = sum(totals.tables.values())
        out["tables"] = (n_tables, done_tables, scale)
        rows_complete = done_tables and len(totals.rows) >= n_tables
        rows_scale = scale * (n_tables / len(totals.rows) if totals.rows else 1.0)
        out["rows"] = (sum(totals.rows.values()), rows_complete, rows_scale)
    return out


def snapshot(
    done: t.Mapping[bytes, int],
    totals: Totals,
    *,
    elapsed_s: float,
    limits: t.Mapping[str, float] | None = None,
) -> Snapshot:
    """Counts, fraction done and time left, consistent with each other by construction."""
    counts: dict[str, int] = dict.fromkeys(KINDS, 0)
    for stream, kind in STREAM_KINDS.items():
        counts[kind] += done.get(stream, 0)
    known = _known(totals)
    shown: dict[str, Count] = {}
    expected: dict[str, float] = {}
    for kind in KINDS:
        total, complete, scale = known.get(kind, (None, False, 1.0))
        shown[kind] = Count(
            counts[kind], None if total is None else max(total, counts[kind]), complete
        )
        if total is not None:
            estimate = total if complete else total * scale
            expected[kind] = max(estimate, counts[kind])
    fraction, eta = _progress(counts, expected, elapsed_s, limits or DEFAULT_LIMITS)
    return Snapshot(shown, done.get(b"failures", 0), fraction, eta, elapsed_s)


#: Per kind: (write slots, read slots) one item takes.
COSTS = {
    "exports": (1.0, float(READS_PER_EXPORT)),
    "tables": (0.0, float(READS_PER_TABLE)),
    "rows": (0.0, 1 / ROWS_PER_READ),
}


def _progress(
    counts: t.Mapping[str, int],
    expected: t.Mapping[str, float],
    elapsed_s: float,
    limits: t.Mapping[str, float],
) -> tuple[float | None, float | None]:
    if "exports" not in expected and "tables" not in expected:
        return None, None  # the listings are not in yet: nothing to measure against
    default_write = RATE_WINDOW_S / DEFAULT_LIMITS["write"]
    default_read = RATE_WINDOW_S / DEFAULT_LIMITS["read"]
    total_cost = done_cost = writes_left = reads_left = 0.0
    for kind, (writes, reads) in COSTS.items():
        if kind not in expected:
            continue
        left = max(expected[kind] - counts[kind], 0.0)
        unit = writes * default_write + reads * default_read  # the weights: Coda's limits
        total_cost += expected[kind] * unit
        done_cost += min(counts[kind], expected[kind]) * unit
        writes_left += left * writes
        reads_left += left * reads
    if total_cost <= 0:
        return 1.0, 0.0
    fraction = done_cost / total_cost
    bound = _limit_bound(writes_left, reads_left, limits)
    observed = elapsed_s * (1 - fraction) / fraction if fraction >= 0.05 else None
    if observed is None:
        return fraction, bound
    if bound is None:
        return fraction, observed
    # Early on the pace seen is mostly start-up and listings: trust the limits more.
    return fraction, max(bound, fraction * observed + (1 - fraction) * bound)


def _limit_bound(
    writes_left: float, reads_left: float, limits: t.Mapping[str, float]
) -> float | None:
    """The least time the rate limits allow for the work left (None: pacing is off)."""
    write_rate, read_rate = limits.get("write", 0.0), limits.get("read", 0.0)
    if write_rate <= 0 or read_rate <= 0:
        return None
    return max(writes_left * RATE_WINDOW_S / write_rate, reads_left * RATE_WINDOW_S / read_rate)


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(snap: Snapshot, *, percent: bool = True) -> str:
    """`docs 1/4 · pages 40/100 · exports 38/100 · tables 8/30+ · rows 2,000/9,000 ·
    failures 2 · 42% · 0:25, about 0:34 left` (failures only when there are some)."""
    parts = [f"{kind} {snap.counts[kind].text()}" for kind in KINDS]
    if snap.failures:
        parts.append(f"failures {snap.failures:,}")
    clock = format_duration(snap.elapsed_s)
    if percent and snap.fraction is not None:
        parts.append(f"{min(snap.fraction, 1.0):.0%}")
    if snap.eta_s is not None and (snap.fraction or 0.0) < 1.0:
        clock += f", about {format_duration(snap.eta_s)} left"
    parts.append(clock)
    return " · ".join(parts)


def limits_of(tap_config: t.Mapping[str, t.Any]) -> dict[str, float]:
    """The pacing the tap will use (its settings, else Coda's limits)."""
    return {
        "read": float(tap_config.get("rate_limit_reads", DEFAULT_LIMITS["read"])),
        "write": float(tap_config.get("rate_limit_writes", DEFAULT_LIMITS["write"])),
    }
