"""Debian's Chromium, headless, driven by Playwright (never a downloaded browser), with
every request and every Content-Security-Policy violation of its pages recorded."""

from __future__ import annotations

import shutil
import tempfile
import typing as t
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
#: What Chromium needs as root in a container, and nothing that phones home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where the test run's screenshots go (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Recorder:
    """Every URL the pages asked for, and every console line about the CSP."""

    requests: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def console(message: t.Any) -> None:
            if "Content Security Policy" in message.text:
                self.csp.append(message.text)

        page.on("console", console)


@contextmanager
def chromium_page() -> Iterator[tuple[Page, Recorder]]:
    """A page of a fresh headless Chromium profile, and what it records."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    profile = Path(tempfile.mkdtemp(prefix="viewer-chromium-"))
    try:
        with sync_api.sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS
            )
            recorder = Recorder()
            page = context.pages[0] if context.pages else context.new_page()
            recorder.watch(page)
            try:
                yield page, recorder
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
