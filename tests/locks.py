"""Explicit interleavings for tests of concurrent transactions (PostgreSQL): wait until another
transaction is blocked on a lock, instead of sleeping and asserting that something has not happened."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def until_waiting_on_a_lock(db, *, count: int = 1, timeout: float = 10.0) -> None:
    """Until `count` sessions of the test's database wait for a lock (a row, a key, an advisory lock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with db.sessionmaker() as s:
        while True:
            waiting = await s.scalar(_WAITING)
            await s.rollback()  # a fresh snapshot of the activity each time
            if waiting >= count:
                return
            if loop.time() > deadline:
                raise AssertionError(f"no session waited for a lock within {timeout} s")
            await asyncio.sleep(0.01)
