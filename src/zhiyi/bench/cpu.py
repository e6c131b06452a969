"""CPU seconds of the parties of a rush, read from Linux's /proc: the server's process group, the
database server's processes and the load generators (this process's children outside the
server's group). On one machine they share the cores, so what one party spends per decision
the others cannot have (the bench's `cpu_ms_per_decision`). Elsewhere (no /proc) every reading
is None."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PARTIES = ("server", "db", "clients")


class Process(NamedTuple):
    pid: int
    name: str  # the command name
    state: str  # R, S, ... Z (zombie), X (dead)
    parent: int
    group: int  # the process group
    seconds: float  # CPU, user and system


def processes() -> Iterator[Process]:
    """Every process still readable in /proc (none without it)."""
    if not PROC.is_dir():
        return
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, ..., utime (12th), stime (13th)
        yield Process(
            int(entry.name),
            name,
            fields[0],
            int(fields[1]),
            int(fields[2]),
            (int(fields[11]) + int(fields[12])) / TICK,
        )


class Sampler(threading.Thread):
    """Reads every party's CPU seconds every `every` seconds until stopped. A process that ends
    keeps its last reading (a load generator done early, a worker killed by --kill-at), so the
    sums never go back. `server_group` gives the server's process group now (a restart makes a
    new one)."""

    def __init__(
        self, server_group: Callable[[], int], parent: int | None = None, every: float = 0.25
    ) -> None:
        super().__init__(name="bench-cpu", daemon=True)
        self.server_group, self.parent, self.every = server_group, parent or os.getpid(), every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._last: dict[tuple[str, int], float] = {}  # (party, pid) -> CPU seconds last read
        self._halt = threading.Event()

    def read(self) -> dict[str, float]:
        if not PROC.is_dir():
            return dict.fromkeys(PARTIES, 0.0)
        group = self.server_group()
        for p in processes():
            party = (
                "server"
                if p.group == group
                else "db"
                if p.name == "postgres"
                else "clients"
                if p.parent == self.parent
                else None
            )
            if party:
                self._last[(party, p.pid)] = p.seconds
        return {p: sum(s for (party, _), s in self._last.items() if party == p) for p in PARTIES}

    def mark(self) -> None:
        """A reading now, from the calling thread (a window's edge that must not wait for the thread)."""
        self.samples.append((time.time(), self.read()))

    def run(self) -> None:
        while True:
            self.samples.append((time.time(), self.read()))
            if self._halt.wait(self.every):
                return

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.samples.append((time.time(), self.read()))

    def between(self, start: float, end: float) -> dict[str, float] | None:
        """Each party's CPU seconds from the last reading at or before `start` to the first at or
        after `end` (so the window covers it); None without /proc or readings around it."""
        if not PROC.is_dir():
            return None
        before = [s for t, s in self.samples if t <= start]
        after = [s for t, s in self.samples if t >= end]
        if not before or not after:
            return None
        return {p: after[0][p] - before[-1][p] for p in PARTIES}


def per_decision(
    seconds: dict[str, float] | None, decisions: int, parties=PARTIES
) -> dict[str, float] | None:
    """Milliseconds of CPU per decision of each party (a party with no process seen: None)."""
    if seconds is None or decisions <= 0:
        return None
    return {p: round(seconds[p] * 1000 / decisions, 3) if seconds[p] else None for p in parties}
