"""What the fake saw during one run: requests per kind and class, 429s, timing phases."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks.bounds import CLASS_OF

if TYPE_CHECKING:
    from fakecoda import LogEntry, RateLimits

_ID = r"[^/]+"
GAP_SECONDS = 0.25
PATTERNS: list[tuple[str, str | None, re.Pattern[str]]] = [
    (kind, method, re.compile(rx))
    for kind, method, rx in (
        ("whoami", None, r"^/apis/v1/whoami$"),
        ("list_docs", None, r"^/apis/v1/docs/?$"),
        ("get_doc", None, rf"^/apis/v1/docs/{_ID}$"),
        ("list_pages", None, rf"^/apis/v1/docs/{_ID}/pages$"),
        ("get_page", None, rf"^/apis/v1/docs/{_ID}/pages/{_ID}$"),
        ("export_post", "POST", rf"^/apis/v1/docs/{_ID}/pages/{_ID}/export$"),
        ("export_poll", None, rf"^/apis/v1/docs/{_ID}/pages/{_ID}/export/{_ID}$"),
        ("list_tables", None, rf"^/apis/v1/docs/{_ID}/tables$"),
        ("get_table", None, rf"^/apis/v1/docs/{_ID}/tables/{_ID}$"),
        ("list_columns", None, rf"^/apis/v1/docs/{_ID}/tables/{_ID}/columns$"),
        ("list_rows", None, rf"^/apis/v1/docs/{_ID}/tables/{_ID}/rows$"),
        ("list_formulas", None, rf"^/apis/v1/docs/{_ID}/formulas$"),
        ("get_formula", None, rf"^/apis/v1/docs/{_ID}/formulas/{_ID}$"),
        ("list_controls", None, rf"^/apis/v1/docs/{_ID}/controls$"),
        ("get_control", None, rf"^/apis/v1/docs/{_ID}/controls/{_ID}$"),
        ("list_permissions", None, rf"^/apis/v1/docs/{_ID}/acl/permissions$"),
        ("acl_settings", None, rf"^/apis/v1/docs/{_ID}/acl/settings$"),
        ("acl_metadata", None, rf"^/apis/v1/docs/{_ID}/acl/metadata$"),
        ("list_folders", None, r"^/apis/v1/folders$"),
        ("blob", None, r"^/blobs/"),
    )
]


def kind_of(entry: LogEntry) -> str:
    for kind, method, pattern in PATTERNS:
        if (method is None or entry.method == method) and pattern.search(entry.path):
            return kind
    return "other"


@dataclass
class KindStats:
    count: int = 0
    status_429: int = 0
    status_404: int = 0
    first: float | None = None  # seconds after spawn
    last: float | None = None


@dataclass
class LogSummary:
    kinds: dict[str, KindStats] = field(default_factory=dict)
    classes: Counter[str] = field(default_factory=Counter)  # answered, 429s included
    classes_ok: Counter[str] = field(default_factory=Counter)  # excluding 429s
    status_429: Counter[str] = field(default_factory=Counter)
    first_request: float | None = None
    last_request: float | None = None
    exports: int = 0
    export_seconds_total: float = 0.0  # sum over exports of POST -> download
    export_seconds_union: float = 0.0  # time during which at least one export was open
    max_in_window: dict[str, int] = field(default_factory=dict)  # busiest window per class
    max_concurrent_exports: int = 0
    #: pauses with no request arriving (longer than GAP_SECONDS): (start, end, before, after)
    gaps: list[tuple[float, float, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kinds": {k: vars(v) for k, v in self.kinds.items()},
            "classes": dict(self.classes),
            "classes_ok": dict(self.classes_ok),
            "status_429": dict(self.status_429),
            "first_request": self.first_request,
            "last_request": self.last_request,
            "exports": self.exports,
            "export_seconds_total": self.export_seconds_total,
            "export_seconds_union": self.export_seconds_union,
            "max_in_window": self.max_in_window,
            "max_concurrent_exports": self.max_concurrent_exports,
            "gaps": self.gaps,
        }


def summarise(log: list[LogEntry], started: float, limits: RateLimits | None) -> LogSummary:
    out = LogSummary()
    by_class_ts: dict[str, list[float]] = {}
    export_open: dict[str, float] = {}  # page path -> POST time
    intervals: list[tuple[float, float]] = []
    previous: tuple[float, str] | None = None
    for entry in sorted(log, key=lambda e: e.ts):
        kind = kind_of(entry)
        if previous is not None and entry.ts - started - previous[0] > GAP_SECONDS:
            out.gaps.append((previous[0], entry.ts - started, previous[1], kind))
        previous = (entry.ts - started, kind)
        cls = entry.rate_class or CLASS_OF.get(kind, "other")
        t = entry.ts - started
        ks = out.kinds.setdefault(kind, KindStats())
        ks.count += 1
        ks.first = t if ks.first is None else ks.first
        ks.last = t
        out.classes[cls] += 1
        if entry.status == 429:
            ks.status_429 += 1
            out.status_429[cls] += 1
            continue
        if entry.status == 404:
            ks.status_404 += 1
        out.classes_ok[cls] += 1
        by_class_ts.setdefault(cls, []).append(entry.ts)
        out.first_request = t if out.first_request is None else out.first_request
        out.last_request = t
        if kind == "export_post":
            export_open[entry.path] = t
        elif kind == "blob":
            # /blobs/DOC_EXPORT_RENDERING/{pageId}/{docId}
            parts = entry.path.rstrip("/").split("/")
            page_id, doc_id = parts[-2], parts[-1]
            key = f"/apis/v1/docs/{doc_id}/pages/{page_id}/export"
            begun = export_open.pop(key, None)
            if begun is not None:
                intervals.append((begun, t))
    out.exports = len(intervals)
    out.export_seconds_total = sum(b - a for a, b in intervals)
    out.export_seconds_union, out.max_concurrent_exports = _union(intervals)
    for cls, stamps in by_class_ts.items():
        limit = getattr(limits, cls, None) if limits is not None else None
        window = limit.window if limit is not None else 6.0
        out.max_in_window[cls] = _busiest(stamps, window)
    return out


def _union(intervals: list[tuple[float, float]]) -> tuple[float, int]:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    total, open_, since, peak = 0.0, 0, 0.0, 0
    for t, delta in events:
        if open_ > 0:
            total += t - since
        open_ += delta
        peak = max(peak, open_)
        since = t
    return total, peak


def _busiest(stamps: list[float], window: float) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while stamps[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
