"""Transactional outbox.

`publish` writes an event row in the caller's transaction, so the event exists
exactly when the change does. A worker claims pending rows (SKIP LOCKED on
PostgreSQL), runs the handlers registered for the topic in one transaction with
marking the row delivered, and retries failures with back-off.
In the embedded tier the worker runs inside the app process; in production
`zhiyi worker` processes drain it.
The table and every query of it are core.outbox_repository's (OutboxEvent is re-exported here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zhiyi.core import clock, ids, jobs, outbox_repository
from zhiyi.core.outbox_repository import OutboxEvent

log = logging.getLogger("zhiyi.outbox")

Handler = Callable[[AsyncSession, "OutboxEvent"], Awaitable[None]]
_handlers: dict[str, list[Handler]] = defaultdict(list)
MAX_ATTEMPTS = 8
# woken by a commit, the worker waits this long before it claims, so that a burst of commits (a
# registration rush publishes hundreds a second) is delivered in one transaction, not one each
GATHER_SECONDS = 0.05
# how long a stopping process lets the worker's running pass finish before cancelling it
STOP_GRACE_SECONDS = 10.0


def handles(topic: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _handlers[topic].append(fn)
        return fn

    return register


def unregister(topic: str, fn: Handler) -> None:
    """Forget a handler (a test's own, once the test is done)."""
    if fn in _handlers.get(topic, []):
        _handlers[topic].remove(fn)


async def publish(session: AsyncSession, topic: str, payload: dict[str, Any]) -> uuid.UUID:
    """Write the event in the caller's transaction (one INSERT, no unit-of-work bookkeeping)."""
    at = clock.now()
    event_id = ids.new_id()
    await outbox_repository.insert_event(
        session,
        {
            "id": event_id,
            "topic": topic,
            "payload": payload,
            "created_at": at,
            "available_at": at,
            "attempts": 0,
        },
    )
    session.info["zhiyi.outbox.published"] = True  # lets the edge wake the worker
    return event_id


def _topics() -> list[str]:
    """The topics someone listens to."""
    return [topic for topic, handlers in _handlers.items() if handlers]


async def _claim(session: AsyncSession, limit: int) -> list[OutboxEvent]:
    return await outbox_repository.claim_heard(
        session, topics=_topics(), max_attempts=MAX_ATTEMPTS, limit=limit
    )


async def _deliver_unheard(session: AsyncSession, limit: int) -> int:
    """Events nobody listens to (yet) are delivered in one statement: no objects loaded, no row-by-row
    UPDATEs (a rush's bookings publish a thousand such events in a second)."""
    return await outbox_repository.deliver_unheard(
        session, topics=_topics(), max_attempts=MAX_ATTEMPTS, limit=limit
    )


async def deliver_pending(session: AsyncSession, *, limit: int = 100) -> int:
    """Deliver up to `limit` events nobody listens to and up to `limit` that someone does, in the given
    session; the caller commits. Returns count."""
    done = await _deliver_unheard(session, limit)
    for event in await _claim(session, limit):
        handlers = _handlers[event.topic]
        try:
            async with session.begin_nested():
                for handler in handlers:
                    await handler(session, event)
            event.delivered_at = clock.now()
            done += 1
        except Exception as exc:  # a failing handler must not stop the others
            log.exception("outbox handler failed", extra={"topic": event.topic})
            event.attempts += 1
            event.last_error = str(exc)[:500]
            event.available_at = clock.now() + dt.timedelta(seconds=2 ** min(event.attempts, 10))
    await session.flush()
    return done


class Worker:
    """Drains the outbox in the background of a process, and runs the periodic jobs (core.jobs)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        interval: float = 1.0,
        gather: float = GATHER_SECONDS,
    ):
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.gather = gather
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._jobs = jobs.Schedule()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        async with self.sessionmaker() as session:
            n = await deliver_pending(session)
            await session.commit()
            return n

    async def run_jobs(self) -> int:
        """Run the periodic jobs that are due (each in its own transaction)."""
        return await self._jobs.run_due(self.sessionmaker)

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: a commit woken during it is not forgotten
            try:
                n = await self.run_once()
            except Exception:
                log.exception("outbox worker pass failed")
                n = 0
            n += await self.run_jobs()
            if n:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                continue
            if self.gather and not self._stopping:
                await asyncio.sleep(self.gather)  # the other commits of a burst join this pass

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="zhiyi-outbox-worker")

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let a running pass finish, for `grace` seconds at most; then cancel it. A pass is one
        transaction, so a cancelled one commits nothing and its events are delivered again by the next
        worker: at least once, as a failed pass's are (a message a handler had already sent is sent
        again). A process that is told to stop must not hang on a pass that is waiting for something."""
        self._stopping = True
        self._wake.set()
        if not self._task:
            return
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            log.warning("outbox worker: a pass was still running %.0f s after stop; cancelled", grace)
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=grace)  # its rollback, bounded too
