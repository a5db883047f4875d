"""`target-files --about --format=markdown` through the real script: readable Markdown,
and the README's settings table is the one it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from target_files.target import SETTINGS

TARGET = Path(sys.executable).parent / "target-files"
README = Path(__file__).resolve().parents[1] / "README.md"


def about_markdown() -> str:
    proc = subprocess.run(
        [str(TARGET), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    return proc.stdout


def test_about_markdown_has_no_indented_code_block() -> None:
    text = about_markdown()
    assert text.startswith("# `target-files`")
    indented = [line for line in text.splitlines() if line.startswith("    ")]
    assert indented == []


def test_readme_settings_table_is_the_one_about_prints() -> None:
    own = set(SETTINGS.to_dict()["properties"])
    rows = [
        line
        for line in about_markdown().splitlines()
        if line.startswith("| ") and line.split(" | ")[0][2:] in own
    ]
    assert len(rows) == len(own)
    readme = README.read_text(encoding="utf-8").splitlines()
    for row in rows:
        assert row in readme, row
