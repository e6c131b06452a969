"""A real Zhiyi server in a subprocess (`zhiyi seed`, then `zhiyi serve`) on a database of the test's,
for tests that must cross a real socket: browser journeys, schemathesis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SERVER_SECRET = "browser-test-secret-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _zhiyi() -> str:
    return str(Path(sys.executable).with_name("zhiyi"))


@contextmanager
def demo_server(base: Path, url: str | None = None) -> Iterator[str]:
    """A freshly seeded demo served from `base` (a journey that must not share the queue's state), on
    `url` (default: a SQLite file in `base`)."""
    url = url or f"sqlite:///{base / 'demo.db'}"
    env = {
        **os.environ,
        "ZHIYI_DATABASE_URL": url,
        "ZHIYI_SECRET_KEY": SERVER_SECRET,
        "ZHIYI_LOG_JSON": "false",
    }
    subprocess.run(
        # the journeys need the rows only: the FHIR repository's copy of the demo is `zhiyi fhir sync`'s
        [_zhiyi(), "seed", "--patients", "40", "--seed", "7", "--no-fhir"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = _free_port()
    log = open(base / "server.log", "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [_zhiyi(), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
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
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(
                "server did not stop in 30 s: " + (base / "server.log").read_text()[-3000:]
            ) from None
        finally:
            log.close()
