"""The server under test for `zhiyi bench rush`: `uvicorn --workers N` with production settings,
started in its own session so that one `killpg` reaches the supervisor and every worker, and
restarted with the very same command (`--kill-at`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx

from zhiyi.bench import cpu
from zhiyi.core.config import Settings
from zhiyi.domains.scheduling import rush
from zhiyi.domains.scheduling.rush import protocol

POOL_PER_WORKER = 10


class Server:
    def __init__(
        self,
        url: str,
        *,
        secret: str,
        workers: int,
        port: int,
        draw_seconds: float = 0.0,
        hold_minutes: int = 15,
        sweep_seconds: float = 15.0,
        app: str = "zhiyi.app:production_app",
        http: str | None = protocol.NAME,
    ) -> None:
        self.port = port
        # hold_minutes: how long a freed place is held for the first in line; sweep_seconds: how often
        # every worker expires holds that ran out and offers places on sale beside a waiting line
        self.env = {
            **os.environ,
            "ZHIYI_DATABASE_URL": url,
            "ZHIYI_SECRET_KEY": secret,
            "ZHIYI_ENV": "production",
            "ZHIYI_DB_POOL_SIZE": str(POOL_PER_WORKER),
            "ZHIYI_LOG_JSON": "true",
            "ZHIYI_RELEASE_DRAW_SECONDS": str(draw_seconds),
            "ZHIYI_WAITLIST_HOLD_MINUTES": str(hold_minutes),
            "ZHIYI_WAITLIST_SWEEP_SECONDS": str(sweep_seconds),
        }
        # app: the factory to serve (`zhiyi.bench.bare:make_app` for the calibration of --bare)
        self.cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        # the HTTP protocol `zhiyi serve` runs: the rush's, unless ZHIYI_RUSH_LANE=false (None: uvicorn's own)
        self.lane = rush.enabled(
            Settings(database_url=url, rush_lane=self.env.get("ZHIYI_RUSH_LANE") or None)
        )
        if http == protocol.NAME and not self.lane:
            http = "httptools"
        if http:
            self.cmd += ["--http", http]
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready: str = "/healthz", timeout: float = 60) -> float:
        """Starts the server and waits until `ready` answers 200; returns the seconds that took."""
        began = time.monotonic()
        # a new session is a new process group whose id is the supervisor's pid: the workers are in it
        self.proc = subprocess.Popen(
            self.cmd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while time.monotonic() < began + timeout and self.proc.poll() is None:
            try:
                if httpx.get(self.base_url + ready, timeout=1).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not answer {ready} (exit code {self.proc.returncode})")

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL to the whole process group, then waits until none of it is alive."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        deadline = time.monotonic() + timeout
        while (alive := _alive_in_group(pgid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        if alive:
            raise RuntimeError(f"processes {alive} of the server's group survived SIGKILL")

    def stop(self) -> None:
        """The orderly end (SIGTERM: uvicorn stops its workers), then SIGKILL to anything left."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def _alive_in_group(pgid: int) -> list[int]:
    """Live (not zombie) members of a process group. Killed workers whose parent died first are
    reparented and may stay zombies for a while; they hold no sockets and run no code."""
    if not cpu.PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    return [p.pid for p in cpu.processes() if p.group == pgid and p.state not in ("Z", "X")]


class KillAt:
    """At epoch second `at`, kills the server's whole process group and starts it again with the
    same command, unless `finish()` (the rush is over) came first."""

    def __init__(self, server: Server, at: float, log: Callable[[str], object]) -> None:
        self.server, self.at, self.log = server, at, log
        self.restarts = 0
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bench-kill-at", daemon=True)

    def start(self) -> KillAt:
        self._thread.start()
        return self

    def _run(self) -> None:
        if self._done.wait(max(0.0, self.at - time.time())):
            self.log("the rush ended before --kill-at: no kill")
            return
        try:
            began = time.monotonic()
            self.server.kill()
            self.log(
                f"killed the server's process group (SIGKILL) in {time.monotonic() - began:.2f} s; restarting"
            )
            took = self.server.start(ready="/livez")
            self.restarts += 1
            self.log(
                f"restarted: /livez answered after {took:.2f} s (outage {time.monotonic() - began:.2f} s)"
            )
        except BaseException as exc:  # reported by finish(); the load generators give up on their own
            self._error = exc

    def finish(self) -> int:
        """Returns the number of restarts; raises what went wrong in the kill or the restart."""
        self._done.set()
        self._thread.join()
        if self._error is not None:
            raise RuntimeError("--kill-at: killing or restarting the server failed") from self._error
        return self.restarts
