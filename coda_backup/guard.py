"""The empty-run guard: a run that finds no doc never replaces a `latest` that has docs.

A typo in `--workspace-id`, a `--doc-id` that no longer exists or an account listing that
suddenly comes back empty would otherwise promote an empty run as `latest`: under cron a
silent loss of the newest snapshot. coda-backup decides this itself, after the tap has
finished and before target-files sees end-of-input (which is what makes it promote), so
the target stays a plain Singer target and the decision has one place.
"""

from __future__ import annotations

import typing as t

ALLOW_FLAG = "--allow-empty"


def describe_empty(
    *, workspace_id: str | None, doc_ids: t.Sequence[str] | None, include_shared: bool
) -> str:
    """Which filter found nothing, in the user's own flags."""
    if doc_ids:
        return f"none of --doc-id {', '.join(doc_ids)} could be read"
    owned = "" if include_shared else " (owned docs only: --include-shared adds shared ones)"
    if workspace_id:
        return f"no doc matches --workspace-id {workspace_id}{owned}"
    return f"Coda listed no docs for this token{owned}"


def refusal(
    *, docs_seen: int, latest: str | None, latest_docs: int, allow_empty: bool, found: str
) -> str | None:
    """Why this run must not be promoted, or None. `found` says which filter found nothing."""
    if docs_seen or allow_empty or not latest or latest_docs <= 0:
        return None
    return (
        f"{found}: latest ({latest}, {latest_docs} docs) is kept and this run dropped; "
        f"{ALLOW_FLAG} lets an empty run replace it"
    )
