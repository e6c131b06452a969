"""Periodic jobs: a domain's jobs.py registers them, and every outbox Worker runs the due ones
(in the app process in the embedded tier, in `zhiyi worker` processes in production).

There is no leader: every process with a worker runs every job, so a job must be safe to run
in several processes at once (conditional UPDATEs and row locks decide, as on the booking path).
Each run is one transaction; a failing job is logged and tried again at its next turn.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zhiyi.core import clock

log = logging.getLogger("zhiyi.jobs")

JobFn = Callable[[AsyncSession, dt.datetime], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn  # (session, now) -> how many things it did
    every: Callable[[], float]  # seconds between runs, read at each run (settings may change in tests)


_jobs: dict[str, Job] = {}


def periodic(name: str, *, every: float | Callable[[], float]) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        _jobs[name] = Job(name, fn, every if callable(every) else (lambda: float(every)))
        return fn

    return register


def registered() -> list[Job]:
    return list(_jobs.values())


async def run(sessionmaker: async_sessionmaker[AsyncSession], job: Job) -> int:
    async with sessionmaker() as session:
        done = await job.fn(session, clock.now())
        await session.commit()
        return done


class Schedule:
    """When each job is next due in this process (a monotonic clock: a frozen or jumping wall
    clock never stops the jobs)."""

    def __init__(self) -> None:
        self._due: dict[str, float] = {}

    async def run_due(self, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        now, done = time.monotonic(), 0
        for job in registered():
            if self._due.get(job.name, 0.0) > now:
                continue
            self._due[job.name] = now + job.every()
            try:
                done += await run(sessionmaker, job)
            except Exception:  # one failing job must not stop the others or the outbox
                log.exception("periodic job failed", extra={"job": job.name})
        return done
