"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser), screenshots as artifacts.

Chromium is optional on a laptop (the tests skip and say why) and required under CI=true (`.ci/run` installs it).

Playwright's sync API runs an asyncio event loop on the test's thread while a browser is open, so Django's
"async-unsafe" guard would refuse every ORM call the test makes meanwhile ("You cannot call this from an async
context"). Nothing here is async: the loop belongs to Playwright, and Django code runs plainly on this thread and
on the live server's. ``DJANGO_ALLOW_ASYNC_UNSAFE`` is therefore set, only while a browser test module runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root Chromium needs --no-sandbox; the rest keep it quiet and offline (no updates, sync or metrics calls).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
# Two shared cores: a page load or a click may take several seconds under load.
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def _async_unsafe_allowed() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_async_unsafe_allowed):
    """One headless Chromium per test module."""
    if not os.access(CHROMIUM, os.X_OK):
        require_service("Chromium", f"{CHROMIUM} not found (apt-get install chromium; set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable]:
    """``new_page()`` opens a page in a fresh context (its own cookies: one logged-in user per context)."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request) -> Callable:
    """``shot(page, "03-accounts")`` saves a full-page PNG under test-artifacts/e2e/<test>/ and returns its path."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()

    def save(page, step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
