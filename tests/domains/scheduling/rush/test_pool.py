"""The rush's own connections (scheduling/rush/pool.py): made and prepared at start, apart from the
shared pool, with what the process made to start frozen out of the collector's way; none of it with
the lane off (ZHIYI_RUSH_LANE) or on SQLite."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from tests.conftest import make_settings
from zhiyi.app import create_app
from zhiyi.core import migrate
from zhiyi.core.db import Database
from zhiyi.domains.scheduling import rush
from zhiyi.domains.scheduling.rush import batches, own_booking, pool


@pytest.mark.parametrize("lane", [None, False], ids=["default", "off"])
async def test_the_app_opens_and_prepares_the_batches_connections_and_freezes_what_it_made(
    fresh_db_url, backend, lane
):
    await asyncio.to_thread(migrate.upgrade, fresh_db_url)
    settings = make_settings(fresh_db_url).model_copy(
        update={"db_pool_size": 2, "db_pool_open_at_start": True, "rush_lane": lane}
    )
    db = Database(settings)
    app = create_app(settings, database=db)
    on = backend.name == "postgresql" and lane is None
    assert rush.enabled(settings) is on
    try:
        async with app.router.lifespan_context(app):
            assert db.engine.pool.checkedin() == db.engine.pool.size()
            if not on:
                assert gc.get_freeze_count() == 0 and db not in pool._engines
                return
            engine = pool.engine_of(db)
            assert (
                engine is not db.engine
                and engine.pool.size() == engine.pool.checkedin() == pool.BATCH_POOL_SIZE
            )
            async with engine.connect() as conn:
                driver = (await conn.get_raw_connection()).driver_connection
                cached = {
                    row[0] for row in await driver.fetch("SELECT statement FROM pg_prepared_statements")
                }
            assert own_booking._BOOK_MANY in cached
            assert gc.get_freeze_count() > 10_000  # what it made to start, out of the collector's way
        assert gc.get_freeze_count() == 0 and db not in pool._engines
    finally:
        await db.dispose()


async def test_a_failure_to_prepare_is_logged_and_leaves_the_pool_open(
    fresh_db_url, backend, caplog, monkeypatch
):
    if backend.name != "postgresql":
        pytest.skip("statements asked on the driver are PostgreSQL's")
    db = Database(make_settings(fresh_db_url))

    async def broken(driver):
        raise RuntimeError("no such function")

    monkeypatch.setattr(pool, "prepare", broken)
    try:
        with caplog.at_level(logging.WARNING, logger="zhiyi.db"):
            await pool.start(db)
        assert any(r.getMessage() == "statements not prepared at start" for r in caplog.records)
        assert (
            pool.engine_of(db).pool.checkedout() == 0
            and pool.engine_of(db).pool.checkedin() == pool.BATCH_POOL_SIZE
        )
    finally:
        await pool.stop(db)
        await db.dispose()


def test_the_connections_kept_for_batches_are_enough_for_every_batch_under_way():
    """Two kinds of batched question (the lane's token check, own_booking.py), each with BATCHES_OUT
    round trips under way at most: a batch never waits for a connection of its pool."""
    assert pool.BATCH_POOL_SIZE >= 2 * batches.BATCHES_OUT
