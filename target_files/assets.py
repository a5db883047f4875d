"""Images and attachments: reassembled from `assets` records, stored once per doc, linked.

The tap sends each file as ordered base64 chunks and a closing `file` record with its
sha256 and size (docs/RECORDS.md). Chunks are appended to a staging file as they come (a
file is never in memory); the closing record is checked against what arrived. At the end:

- each file goes to `docs/<doc>/assets/<safe name>__<sha256[:12]><ext>`, once per digest;
- links in this run's `.md`/`.html` pages that name a file (its URL, whatever signature the
  query carries) become paths relative to the page's own folder, so pages open offline;
  CSVs and metadata JSON keep Coda's values;
- an asset of the previous run that a page or table not sent again still refers to is
  carried forward (hard link) with it;
- the doc's manifest entry lists `assets`: `{url, key, path, sha256, size, content_type,
  status, referrers}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
import re
import typing as t
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from target_files import fsutil, layout, outcomes, relink
from target_files.records import require

if t.TYPE_CHECKING:
    from target_files.outcomes import DocOutcome
    from target_files.tree import Tree

#: What may follow an asset's key in a page: its query (a signature), up to the link's end.
_QUERY = r"(?:\?[^\s\"'<>()]*)?"


@dataclass
class StagedAsset:
    doc_id: str
    key: str
    path: Path
    digest: t.Any = field(default_factory=hashlib.sha256)
    size: int = 0
    next_seq: int = 0
    problem: str | None = None
    closed: dict[str, t.Any] | None = None


class AssetStage:
    """The asset files arriving, one staging file each."""

    def __init__(self, root: Path, perms: fsutil.Perms) -> None:
        self.root, self.perms = root, perms
        fsutil.mkdir(root, perms)
        self.files: dict[tuple[str, str], StagedAsset] = {}

    def add(self, record: dict[str, t.Any]) -> None:
        require(record, "assets", "doc_id", "key", "kind")
        where = (str(record["doc_id"]), str(record["key"]))
        staged = self.files.get(where)
        if staged is None:
            path = self.root / f"{len(self.files) + 1}.part"
            staged = self.files[where] = StagedAsset(*where, path)
        if staged.problem:
            return
        if record.get("seq") != staged.next_seq:
            staged.problem = f"chunk {record.get('seq')} came where {staged.next_seq} was due"
            return
        staged.next_seq += 1
        if record["kind"] == "file":
            staged.closed = dict(record)
            if record.get("status") == "held":
                return  # a file latest holds: no bytes were sent, it is linked from there
            if (record.get("sha256"), record.get("size")) != (
                staged.digest.hexdigest(),
                staged.size,
            ):
                staged.problem = "its bytes do not match the sha256 and size the tap sent"
            return
        try:
            piece = base64.b64decode(str(record.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            staged.problem = f"chunk {record.get('seq')} is not base64"
            return
        with staged.path.open("ab") as out:
            out.write(piece)
        staged.digest.update(piece)
        staged.size += len(piece)

    def of_doc(self, doc_id: str) -> list[StagedAsset]:
        return [a for (d, _), a in sorted(self.files.items()) if d == doc_id]


def _file_name(closed: dict[str, t.Any]) -> str:
    name = str(closed.get("name") or "asset")
    suffix = PurePosixPath(name.replace("\\", "/")).suffix[:16]
    stem = name[: len(name) - len(suffix)] if suffix else name
    ext = "." + layout.safe(suffix[1:], 15) if len(suffix) > 1 else ""
    return f"{layout.safe(stem, 120)}__{str(closed['sha256'])[:12]}{ext}"


def _entry(closed: dict[str, t.Any], path: str, status: str) -> dict[str, t.Any]:
    return {
        "url": closed.get("url"),
        "key": closed.get("key"),
        "path": path,
        "sha256": closed.get("sha256"),
        "size": closed.get("size"),
        "content_type": closed.get("content_type"),
        "status": status,
        "referrers": list(closed.get("referrers") or []),
    }


def place_doc(tree: Tree, doc: DocOutcome, doc_rel: str) -> list[dict[str, t.Any]]:
    """A doc's assets into `<doc_rel>/assets/`, its pages' links rewritten; the manifest
    entries. Problems become the doc's failures."""
    entries: list[dict[str, t.Any]] = []
    by_digest: dict[str, str] = {}
    for staged in tree.staging.assets.of_doc(doc.entry["id"]):
        closed = staged.closed
        if staged.problem or closed is None:
            why = staged.problem or "its closing record never came"
            doc.failures.append(
                outcomes.failure("asset", staged.doc_id, staged.key, None, f"asset {why}")
            )
            staged.path.unlink(missing_ok=True)
            continue
        digest = str(closed["sha256"])
        rel = by_digest.get(digest)
        if closed.get("status") == "held":
            held = _held(tree, doc, doc_rel, closed, rel)
            if held is None:
                why = "is held by an earlier run that latest no longer has; a full run is needed"
                doc.failures.append(
                    outcomes.failure("asset", staged.doc_id, staged.key, None, f"asset {why}")
                )
                continue
            by_digest[digest] = held
            entries.append(_entry(closed, held, "held"))
            continue
        if rel is None:
            rel = by_digest[digest] = f"{doc_rel}/assets/{_file_name(closed)}"
            if staged.path.exists():
                tree.place(staged.path, rel)
            else:  # an empty file: no chunk came
                tree.record(rel, fsutil.write_text(tree.root / rel, b"", tree.perms))
        else:
            staged.path.unlink(missing_ok=True)
        entries.append(_entry(closed, rel, "fetched"))
    entries += _carried(tree, doc, doc_rel, {e["key"] for e in entries})
    _rewrite_pages(tree, doc, entries)
    return entries


def _held(
    tree: Tree, doc: DocOutcome, doc_rel: str, closed: dict[str, t.Any], rel: str | None
) -> str | None:
    """Where a file the tap did not send again (same key, same digest in latest) now is:
    linked from latest's copy; None when latest has none."""
    if rel is not None:
        return rel
    prev = tree.prev.docs.get(doc.entry["id"]) if tree.prev else None
    old = next(
        (
            e
            for e in (prev or {}).get("assets") or []
            if e.get("key") == closed.get("key") and e.get("sha256") == closed.get("sha256")
        ),
        None,
    )
    if old is None or not old.get("path"):
        return None
    new = f"{doc_rel}/assets/{PurePosixPath(str(old['path'])).name}"
    if new not in tree.files and tree.carry(old, new).source is None:
        return None
    return new


def _resent(doc: DocOutcome) -> set[str]:
    """Referrers whose content this run sent again in full (their assets came again)."""
    out = set()
    for page in doc.pages:
        files = (page.entry.get("files") or {}).values()
        if files and all(isinstance(f, dict) and f.get("status") == "exported" for f in files):
            out.add(f"page:{page.entry['id']}")
    for table in doc.tables:
        if table.entry.get("syncMode") == "full":
            out.add(f"table:{table.entry['id']}")
    return out


def _carried(tree: Tree, doc: DocOutcome, doc_rel: str, have: set[str]) -> list[dict[str, t.Any]]:
    """Assets of latest that a page or table not sent again still refers to."""
    prev = tree.prev.docs.get(doc.entry["id"]) if tree.prev else None
    if not prev:
        return []
    resent, out = _resent(doc), []
    for old in prev.get("assets") or []:
        referrers = set(old.get("referrers") or [])
        if old.get("key") in have or not referrers - resent or not old.get("path"):
            continue
        rel = f"{doc_rel}/assets/{PurePosixPath(str(old['path'])).name}"
        if rel not in tree.files and tree.carry(old, rel).source is None:
            continue
        out.append({**old, "path": rel, "status": "carried"})
        have.add(str(old.get("key")))
    return out


def _relinked(text: str, *, pattern: re.Pattern[str], targets: dict[str, str], folder: str) -> str:
    """`text` with each asset link replaced by its copy's path relative to `folder`."""

    def local(match: re.Match[str]) -> str:
        return quote(posixpath.relpath(targets[match.group(0).split("?", 1)[0]], folder))

    return pattern.sub(local, text)


def _rewrite_pages(tree: Tree, doc: DocOutcome, entries: list[dict[str, t.Any]]) -> None:
    """Links to an asset in this run's page files become relative paths to its copy."""
    if not entries:
        return
    targets = {str(e["key"]): str(e["path"]) for e in entries if e.get("key")}
    pattern = re.compile("|".join(f"({re.escape(k)}){_QUERY}" for k in targets))
    for page in doc.pages:
        for file in (page.entry.get("files") or {}).values():
            if not isinstance(file, dict) or file.get("status") != "exported":
                continue
            rel = str(file.get("path") or "")
            path = tree.root / rel
            if not rel or not path.is_file():
                continue
            folder = posixpath.dirname(rel)
            digest = relink.rewrite(
                path,
                partial(_relinked, pattern=pattern, targets=targets, folder=folder),
                tree.perms,
            )
            if digest is not None:
                tree.record(rel, digest)
