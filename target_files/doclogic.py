"""A doc's logic and sharing, and the account's folders: staged while records stream in,
written as the tree's JSON files at the end (DESIGN.md "Where the backup goes next").

```
<run>/folders.json                 GET /folders: list of folder objects
<run>/docs/<doc>/formulas.json     list of formula objects as served (with `value`)
                 controls.json     list of control objects (`controlType`, `value`)
                 permissions.json  list of permission objects (acl/permissions)
                 sharing.json      {"settings": acl/settings, "metadata": acl/metadata}
```

Objects are kept as served (unknown fields too); only the tap's `doc_id` is dropped, and a
property the schema declares as JSON text (`contentMediaType: application/json`, tap-coda's
formula and control `value`) is decoded back to the value Coda served. A file
is written only for a stream the input announced, and not for a doc whose listing of it
failed or was skipped (a shared doc's ACL): a partial list would pass for a whole one.
These are read on every run (values change without any `updatedAt`), so nothing is carried.
"""

from __future__ import annotations

import contextlib
import typing as t
from pathlib import Path

from target_files import fsutil, jsonio
from target_files.records import api_object, read_jsonl, require

if t.TYPE_CHECKING:
    from target_files.tree import Tree

#: stream -> the doc's file holding its objects as a list
LIST_FILES = {
    "formulas": "formulas.json",
    "controls": "controls.json",
    "permissions": "permissions.json",
}
JSON_MEDIA_TYPE = "application/json"
SHARING_FILE = "sharing.json"
FOLDERS_FILE = "folders.json"
#: `failures` object types that mean a doc's list (or its sharing) is not whole
LISTING_FAILURES = {
    "formulas": ("formulas",),
    "controls": ("controls",),
    "permissions": ("permissions",),
    "sharing": ("sharing settings", "sharing metadata"),
}


def json_text_properties(schema: t.Mapping[str, t.Any]) -> frozenset[str]:
    """The properties `schema` declares as strings holding JSON."""
    properties = schema.get("properties") or {}
    return frozenset(
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get("contentMediaType") == JSON_MEDIA_TYPE
    )


def decode_json_text(record: dict[str, t.Any], names: frozenset[str]) -> dict[str, t.Any]:
    """`record` with those properties' JSON text decoded in place (key order kept); text
    that is not JSON stays as it came: nothing is lost."""
    for name in names & record.keys():
        text = record[name]
        if isinstance(text, str):
            with contextlib.suppress(jsonio.DecodeError):
                record[name] = jsonio.loads(text)
    return record


class LogicStage:
    """The staged objects: JSON Lines per (stream, doc), sharing per doc, folders."""

    def __init__(self, root: Path, perms: fsutil.Perms, files: fsutil.OpenFiles) -> None:
        self.root = root
        fsutil.mkdir(root, perms)
        self._files = files
        self._paths: dict[tuple[str, str], Path] = {}
        self.sharing: dict[str, dict[str, t.Any]] = {}
        self.folders_path = root / "folders.jsonl"

    def _append(self, path: Path, record: t.Mapping[str, t.Any]) -> None:
        handle, _ = self._files.get(path)
        handle.write(jsonio.compact(api_object(record)) + "\n")

    def add(self, stream: str, record: dict[str, t.Any]) -> None:
        """A formula, control or permission of a doc."""
        require(record, stream, "doc_id", "id")
        key = (stream, str(record["doc_id"]))
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = self.root / f"{len(self._paths) + 1}.{stream}.jsonl"
        self._append(path, record)

    def add_sharing(self, record: dict[str, t.Any]) -> None:
        require(record, "sharing", "doc_id")
        self.sharing[str(record["doc_id"])] = {
            "settings": record.get("settings"),
            "metadata": record.get("metadata"),
        }

    def add_folder(self, record: dict[str, t.Any]) -> None:
        require(record, "folders", "id")
        self._append(self.folders_path, record)

    def objects(self, stream: str, doc_id: str) -> list[dict[str, t.Any]]:
        path = self._paths.get((stream, doc_id))
        return read_jsonl(path) if path else []


def _not_whole(tree: Tree, stream: str, doc_id: str) -> bool:
    kinds = LISTING_FAILURES[stream]
    return any(
        f.get("doc_id") == doc_id and f.get("object_type") in kinds for f in tree.staging.failures
    )


def write_doc_files(tree: Tree, doc_id: str, rel: str) -> None:
    """A doc's formulas, controls, permissions and sharing files into folder `rel` (none
    for a doc that failed or was skipped as a whole: its children were never read)."""
    if doc_id in tree.failed.docs:
        return
    stage = tree.staging.logic
    for stream, name in LIST_FILES.items():
        if stream in tree.announced and not _not_whole(tree, stream, doc_id):
            tree.write_json(f"{rel}/{name}", stage.objects(stream, doc_id))
    sharing = stage.sharing.get(doc_id)
    if sharing is not None:
        tree.write_json(f"{rel}/{SHARING_FILE}", sharing)


def write_folders(tree: Tree) -> None:
    """`folders.json` at the run's root, unless the listing failed."""
    if "folders" not in tree.announced:
        return
    if any(f.get("object_type") == "folders" for f in tree.staging.failures):
        return
    tree.write_json(FOLDERS_FILE, read_jsonl(tree.staging.logic.folders_path))
