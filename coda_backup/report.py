"""The end-of-run summary, read from the promoted run's summary.json (the target's count)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

#: Failures listed one per line; the rest are counted (all of them are in summary.json).
MAX_FAILURES_SHOWN = 10


def read_summary(run_dir: Path) -> dict[str, t.Any] | None:
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def _n(summary: t.Mapping[str, t.Any], key: str) -> int:
    value = summary.get(key)
    return value if isinstance(value, int) else 0


def describe_failure(failure: t.Mapping[str, t.Any]) -> str:
    """`page_content "Name" (id, html): error` — enough to find the object in Coda."""
    kind = failure.get("object_type") or "object"
    name = failure.get("name")
    ids = [str(x) for x in (failure.get("object_id") or failure.get("doc_id"),) if x]
    if failure.get("format"):
        ids.append(str(failure["format"]))
    label = f'{kind} "{name}"' if name else str(kind)
    if ids:
        label += f" ({', '.join(ids)})"
    return f"{label}: {failure.get('error') or 'unknown error'}"


def summary_lines(summary: t.Mapping[str, t.Any], run_dir: Path, *, elapsed: str) -> list[str]:
    failures = [f for f in summary.get("failures") or [] if isinstance(f, dict)]
    status = summary.get("status") or "unknown"
    pages = _n(summary, "pages_exported") + _n(summary, "pages_skipped_unchanged")
    counts = (
        f"{_n(summary, 'docs_processed')} docs, "
        f"{pages} pages ({_n(summary, 'pages_exported')} exported, "
        f"{_n(summary, 'pages_skipped_unchanged')} unchanged), "
        f"{_n(summary, 'tables_exported')} tables + {_n(summary, 'views_exported')} views "
        f"({_n(summary, 'tables_skipped_unchanged')} unchanged), "
        f"{_n(summary, 'rows_written'):,} rows"
    )
    lines = [f"Backup {status}: {counts}"]
    if failures:
        lines.append(f"{len(failures)} object(s) could not be backed up (see summary.json):")
        lines += [f"  - {describe_failure(f)}" for f in failures[:MAX_FAILURES_SHOWN]]
        if len(failures) > MAX_FAILURES_SHOWN:
            lines.append(f"  … and {len(failures) - MAX_FAILURES_SHOWN} more")
    lines += [f"Folder: {run_dir}", f"Time: {elapsed}"]
    return lines


def print_summary(summary: t.Mapping[str, t.Any], run_dir: Path, *, elapsed: str) -> None:
    print("\n".join(summary_lines(summary, run_dir, elapsed=elapsed)), flush=True)  # noqa: T201
