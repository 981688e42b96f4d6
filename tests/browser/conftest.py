"""Headless Debian Chromium for the report tests, driven by Playwright.

Only the system browser is used (``executable_path=/usr/bin/chromium``): ``playwright install``
downloads browsers from the internet, which this project never does. When Chromium is missing
the fixture runs ``scripts/ensure-chromium.sh`` once (it installs the Debian package when run as
root and the package registry answers) and skips with the script's explanation otherwise.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ENSURE_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure-chromium.sh"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    try:
        completed = subprocess.run(
            ["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
        )
        explanation = (completed.stdout + completed.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        explanation = f"scripts/ensure-chromium.sh could not run: {error}"
    if CHROMIUM.exists():
        return CHROMIUM
    pytest.skip(f"headless Chromium unavailable at {CHROMIUM}: {explanation or 'no reason given'}")


@pytest.fixture(scope="session")
def chromium_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A persistent Chromium context with a fresh profile directory, shared by the browser tests."""
    executable = _chromium_or_skip()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright dev dependency is not installed"
    )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
            env={**os.environ, "HOME": str(profile)},
        )
        try:
            yield context
        finally:
            context.close()


class RecordedPage:
    """A page with every request it attempted and every script error it raised."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    @property
    def network_requests(self) -> list[str]:
        """Requests that would leave the file: anything but file:// and data: URLs."""
        return [url for url in self.requests if not url.startswith(("file://", "data:"))]


def _only_local(route: Any) -> None:
    if route.request.url.startswith(("file:", "data:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def report_page(chromium_context: Any) -> Iterator[RecordedPage]:
    page = chromium_context.new_page()
    # Anything but file:// and data: is aborted (and still recorded by the request listener).
    page.route("**/*", _only_local)
    try:
        yield RecordedPage(page)
    finally:
        page.close()
