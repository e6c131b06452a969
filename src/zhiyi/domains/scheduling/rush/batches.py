"""Questions to the database asked in batches: one round trip, connection checkout and commit for
the questions of several requests (a patient's own booking, own_booking.py, and the lane's check that
the tokens' accounts and sign-ins still stand).

A question goes out at once while fewer than `out` round trips are under way; otherwise it waits and
goes out with the others that came meanwhile, in one statement on one connection. So in a rush each
round trip serves several questions; when it is quiet nothing waits. Each question is a PostgreSQL
function call in its own subtransaction, as when asked alone, so one question's trouble is its own.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

# questions asked in one round trip at most: each booked question leaves one committed subtransaction
# in the batch's transaction, and PostgreSQL caches 64 per backend (PGPROC_MAX_CACHED_SUBXIDS); past
# that every other backend's snapshot must look subtransactions up, which slows the whole database
BATCH_MAX = 64
BATCHES_OUT = (
    2  # round trips under way at once per engine and kind of question (each on its own pooled connection)
)


class NoAnswer(RuntimeError):
    """A batched question left unanswered by a round trip that ended without answers."""


RoundTrip = Callable[[list[tuple]], Awaitable[list]]


def arrays(questions: list[tuple], fields: int) -> list[list]:
    """A batch's questions as the statement's arrays, one per field (`unnest` turns them back into rows)."""
    return [list(column) for column in zip(*questions, strict=True)] or [[] for _ in range(fields)]


class Batcher:
    """`round_trip(questions)` asks a batch and returns the answers in order (the server's on its
    pool; the bench's anchor on its own connections)."""

    def __init__(self, round_trip: RoundTrip, out: int = BATCHES_OUT) -> None:
        self.round_trip, self.max_out = round_trip, out
        self.loop = asyncio.get_running_loop()
        self.waiting: list[tuple[tuple, asyncio.Future]] = []
        self.out = 0  # round trips under way
        self.drainers: set[asyncio.Task] = set()  # held: the loop keeps only weak references to tasks

    async def ask(self, question: tuple):
        answer = self.loop.create_future()
        self.waiting.append((question, answer))
        if self.out < self.max_out:
            self.out += 1
            drainer = self.loop.create_task(self._drain())
            self.drainers.add(drainer)
            drainer.add_done_callback(self.drainers.discard)
        return await answer

    async def _drain(self) -> None:
        batch: list[tuple[tuple, asyncio.Future]] = []
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:BATCH_MAX], self.waiting[BATCH_MAX:]
                try:
                    outcomes = await self.round_trip([q for q, _ in batch])
                except asyncio.CancelledError:  # the process is stopping: nothing more is asked
                    for _, answer in batch + self.waiting:
                        answer.cancel()
                    self.waiting = []
                    raise
                except Exception as exc:  # each question meets it, as when asked alone
                    for _, answer in batch:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                for (_, answer), outcome in zip(batch, outcomes, strict=True):
                    if not answer.done():  # its request may have gone (a client that left)
                        answer.set_result(outcome)
        finally:
            self.out -= 1
            for _, answer in batch:  # never left waiting, whatever went wrong above
                if not answer.done():
                    answer.set_exception(NoAnswer("the batched question got no answer"))


async def pool_round_trip(
    engine: AsyncEngine,
    ask_many: Callable[[asyncpg.Connection, list[tuple]], Awaitable[list]],
    questions: list[tuple],
) -> list:
    """A batch asked straight from the engine's pool: no ORM session, transaction or connection objects
    for one statement (which commits on its own)."""
    pooled = await engine.raw_connection()
    driver = pooled.driver_connection
    try:
        return await ask_many(driver, questions)
    finally:
        if (
            driver.is_closed()
        ):  # lost, or closed by the server (a restart): not given back, the pool opens anew
            pooled.invalidate()
        await greenlet_spawn(pooled.close)  # back to the pool (nothing to roll back: the statement committed)


def per_engine(
    round_trip: Callable[[AsyncEngine, list[tuple]], Awaitable[list]],
) -> Callable[[AsyncEngine], Batcher]:
    """A getter of one Batcher per engine (and event loop) asking with `round_trip(engine, questions)`."""
    batchers: weakref.WeakKeyDictionary[AsyncEngine, Batcher] = weakref.WeakKeyDictionary()

    def batcher(engine: AsyncEngine) -> Batcher:
        found = batchers.get(engine)
        if (
            found is None or found.loop is not asyncio.get_running_loop()
        ):  # a new event loop (tests make many)
            held = weakref.ref(engine)  # the batcher must not keep its engine (the key) alive

            async def asked(questions: list[tuple]) -> list:
                return await round_trip(held(), questions)

            found = batchers[engine] = Batcher(asked)
        return found

    return batcher
