"""`jsonio.write_pretty` (the manifest, written as it is encoded, issue #17) writes the very
text `jsonio.pretty` returns, whatever the value holds."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from target_files import jsonio

MANIFEST_LIKE = {
    "format": 1,
    "run_id": "2026-12-01T101530Z",
    "previous_run": None,
    "docs": [
        {
            "id": "d1",
            "name": 'Doc é 中 \u2028 line\nbreak "quoted"',
            "pages": [{"id": "p1", "files": {"markdown": {"path": "a/b.md"}}}, {}],
            "tables": [],
            "odd keys": {2: "two", True: "yes", None: "none"},
            "tuple": (1, [2, {}]),
            "numbers": [Decimal("1.50"), float("nan"), 1e16, -0.0, 10**20],
            "set": {3, 1, 2},
        },
        [],
        {},
    ],
    "files": {f"docs/d1/p{n}.md": {"sha256": "ab" * 32, "size": n} for n in range(50)},
    "empty": {},
}


@pytest.mark.parametrize(
    "value",
    [MANIFEST_LIKE, {}, [], 1, "text", None, [[]], {"a": {}}, [1, [2, [3, [4]]]], {"k": [{}]}],
)
def test_written_as_it_is_encoded_the_text_is_prettys(value: object) -> None:
    out = io.StringIO()
    jsonio.write_pretty(value, out)
    assert out.getvalue() == jsonio.pretty(value)
