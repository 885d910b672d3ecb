"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, a real stack, screenshots.

Chromium is installed with apt-get on first use when it is missing and we run as root (CI does,
and `.ci/run` installs it up front); otherwise the tests fail with the installer's message, they
are never skipped. Playwright never downloads a browser: it launches /usr/bin/chromium.
Screenshots land in artifacts/screenshots/ (gitignored), which CI keeps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright, expect, sync_playwright

from tests.e2e.conftest import awf_env  # noqa: F401 - a fixture the tests use

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("AWF_CHROMIUM", "/usr/bin/chromium"))
expect.set_options(timeout=15_000)  # a busy 2-core CI box; no speed is asserted here
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _install_chromium() -> str | None:
    """Install Debian's chromium; None when done, else why it could not be."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "Chromium is missing and apt-get as root is not available to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        done = subprocess.run(
            step, capture_output=True, text=True, env=env, timeout=900, check=False
        )
        if done.returncode != 0:
            return f"{' '.join(step)} failed:\n{done.stderr[-3000:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        problem = _install_chromium()
        if problem or not CHROMIUM.exists():
            pytest.fail(
                f"{problem or 'apt-get installed no ' + str(CHROMIUM)}; the browser tests need it"
            )
    return CHROMIUM


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: while the sync driver is open its event loop counts as running in this
    thread, so it must be closed before a later module's asyncio tests run in this process."""
    with sync_playwright() as driver:
        yield driver


class Browsers:
    """Fresh browsers (each its own profile directory), closed at the end of the test."""

    def __init__(self, playwright: Playwright, chromium: Path) -> None:
        self._playwright, self._chromium = playwright, chromium
        self._open: list[tuple[BrowserContext, tempfile.TemporaryDirectory[str]]] = []

    def new(self, *, width: int = 1280, height: int = 900) -> BrowserContext:
        profile = tempfile.TemporaryDirectory(prefix="awf-chromium-")
        context = self._playwright.chromium.launch_persistent_context(
            profile.name,
            executable_path=str(self._chromium),
            args=ARGS,
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(15_000)
        self._open.append((context, profile))
        return context

    def close(self) -> None:
        for context, profile in self._open:
            context.close()
            profile.cleanup()


@pytest.fixture
def browsers(playwright: Playwright, chromium: Path) -> Iterator[Browsers]:
    opened = Browsers(playwright, chromium)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
