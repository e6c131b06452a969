"""A real server for browser tests: seeded SQLite demo data, `zhiyi serve` in a subprocess,
Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.servers import demo_server

CHROMIUM = os.environ.get("ZHIYI_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Seeds a small demo group and serves it; yields the base URL."""
    with demo_server(tmp_path_factory.mktemp("live")) as root:
        yield root


# a browser per module, not per session: Playwright's sync API runs its event loop in the main thread
# while it is open, and the async tests collected after a browser module (test_pages.py) need that
# thread's loop free (asyncio.run refuses to start inside a running loop)
@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if IN_CI:
            pytest.fail(f"CI=true requires Debian chromium at {CHROMIUM} (make test installs it)")
        pytest.skip(f"no chromium at {CHROMIUM}; `apt-get install chromium fonts-noto-cjk`")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="zh-CN", viewport={"width": 412, "height": 900})
    p = context.new_page()
    yield p
    context.close()
