"""The rush's own connections, and what the process does at start so that a release instant finds it ready.

The batched statements (batches.py) have a small pool of their own. In the shared pool a batch waited
behind single requests' transactions: in a rush, a waiting-list join holds its connection for nine round
trips, each a turn of a busy event loop, and 40-50 of them at once took every connection, so 64 "full"
answers at a time waited 30-120 ms more. Two kinds of question (the lane's token check, the
one-statement booking), each with batches.BATCHES_OUT round trips under way at most: four connections,
never more, so a batch never waits for one.
"""

from __future__ import annotations

import gc
import weakref

from sqlalchemy.ext.asyncio import AsyncEngine

from zhiyi.core.db import Database, make_engine, open_connections
from zhiyi.domains.scheduling.rush import own_booking

BATCH_POOL_SIZE = 4
_engines: weakref.WeakKeyDictionary[Database, AsyncEngine] = weakref.WeakKeyDictionary()
_borrowed: weakref.WeakSet[Database] = weakref.WeakSet()  # engines given by `use`, not ours to dispose of


def engine_of(db: Database) -> AsyncEngine:
    """The batches' engine of a process's database (made on first use; it connects when asked)."""
    found = _engines.get(db)
    if found is None:
        found = _engines[db] = make_engine(db.settings, pool_size=BATCH_POOL_SIZE, max_overflow=0)
    return found


def use(db: Database, engine: AsyncEngine) -> None:
    """Ask the batches on `engine` (tests: connections outside the test's transaction)."""
    _engines[db] = engine
    _borrowed.add(db)


async def prepare(driver) -> None:
    """The batched statement, prepared on one driver connection (a first use at a release instant
    costs a parse, a plan and the driver's type look-ups per connection)."""
    await own_booking.prepare(driver)


async def start(db: Database, *, open_at_start: bool = True) -> None:
    """At start, before the process serves: what the process made to start (about 200,000 objects:
    modules, routes, mappers, templates) lives as long as it does, so out of the collector's way, whose
    full passes over it took ~90 ms each and in a rush came every few seconds, each a pause of every
    request (frozen before connections are made: one the pool drops later must stay collectable);
    then the batches' connections, made and prepared."""
    gc.collect()
    gc.freeze()
    if open_at_start:
        await open_connections(engine_of(db), prepare=prepare)


async def stop(db: Database) -> None:
    gc.unfreeze()  # collectable again (tests start and stop many apps in one process)
    if db not in _borrowed and (engine := _engines.pop(db, None)) is not None:
        await engine.dispose()
