"""A real server for browser tests: seeded SQLite demo data, `zhiyi serve` in a subprocess,
Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("ZHIYI_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _zhiyi() -> str:
    return str(Path(sys.executable).with_name("zhiyi"))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Seeds a small demo group and serves it; yields the base URL."""
    with demo_server(tmp_path_factory.mktemp("live")) as root:
        yield root


@contextmanager
def demo_server(base: Path) -> Iterator[str]:
    """A freshly seeded demo served from `base` (a journey that must not share the queue's state)."""
    url = f"sqlite:///{base / 'demo.db'}"
    env = {**os.environ, "ZHIYI_DATABASE_URL": url, "ZHIYI_SECRET_KEY": "browser-test-secret-0123456789abcdef",
           "ZHIYI_LOG_JSON": "false"}
    subprocess.run([_zhiyi(), "seed", "--patients", "40", "--seed", "7"], env=env, check=True,
                   capture_output=True, timeout=300)
    port = _free_port()
    log = open(base / "server.log", "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([_zhiyi(), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{root}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + (base / "server.log").read_text()[-2000:])
            time.sleep(0.2)
        yield root
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


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
