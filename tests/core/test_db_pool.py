"""A server process makes its pool's connections before it serves (core.db.Database.open_pool)."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from tests.conftest import make_settings
from zhiyi.app import create_app
from zhiyi.core import migrate
from zhiyi.core.config import Settings
from zhiyi.core.db import BATCH_POOL_SIZE, Database
from zhiyi.domains import registry
from zhiyi.domains.scheduling import own_booking, sold_out


async def test_the_app_opens_its_pool_before_it_serves_and_freezes_what_it_made(fresh_db_url):
    settings = make_settings(fresh_db_url).model_copy(update={"db_pool_size": 3, "db_pool_open_at_start": True})
    db = Database(settings)
    app = create_app(settings, database=db)
    try:
        assert db.engine.pool.checkedin() == 0  # nothing made yet
        async with app.router.lifespan_context(app):
            size = db.engine.pool.size()
            assert db.engine.pool.checkedin() == size and db.engine.pool.checkedout() == 0  # all made, none held
            # what it made to start is out of the garbage collector's way while it serves
            assert gc.get_freeze_count() > 10_000
        assert gc.get_freeze_count() == 0
    finally:
        await db.dispose()


async def test_it_can_be_left_to_the_first_requests(fresh_db_url):
    settings = make_settings(fresh_db_url).model_copy(update={"db_pool_open_at_start": False})
    db = Database(settings)
    app = create_app(settings, database=db)
    try:
        async with app.router.lifespan_context(app):
            assert db.engine.pool.checkedin() == 0
    finally:
        await db.dispose()


async def test_a_database_that_does_not_answer_is_logged_and_does_not_stop_the_start(caplog):
    # a port nobody listens on: every connection is refused at once
    db = Database(Settings(database_url="postgresql://postgres@127.0.0.1:9/none", secret_key="k" * 43, db_pool_size=2))
    try:
        with caplog.at_level(logging.WARNING, logger="zhiyi.db"):
            assert await db.open_pool(timeout=5) == 0
        assert db.engine.pool.checkedout() == db.batch_engine.pool.checkedout() == 0
        assert any(r.getMessage() == "database pool not fully opened at start" for r in caplog.records)
    finally:
        await db.dispose()


@pytest.mark.parametrize("size", [1, 4])
async def test_it_opens_as_many_as_the_pool_keeps(fresh_db_url, size, backend):
    db = Database(make_settings(fresh_db_url).model_copy(update={"db_pool_size": size}))
    try:
        opened = await db.open_pool()
        assert db.engine.pool.size() == db.engine.pool.checkedin()
        if backend.name == "sqlite":
            assert opened == 1 and db.batch_engine is db.engine  # SQLite's pool is one connection
        else:  # and the connections kept apart for batched statements
            assert db.batch_engine.pool.size() == db.batch_engine.pool.checkedin() == BATCH_POOL_SIZE
            assert opened == size + BATCH_POOL_SIZE
    finally:
        await db.dispose()


async def test_statements_asked_on_the_driver_are_prepared_on_every_connection(fresh_db_url, backend, caplog):
    """PostgreSQL: the batched statements (registry.PREPARED) are in the statement cache of each
    connection kept for them before the process serves; a failure to prepare is logged and leaves the
    pool open."""
    await asyncio.to_thread(migrate.upgrade, fresh_db_url)
    db = Database(make_settings(fresh_db_url).model_copy(update={"db_pool_size": 2}))
    prepared_on: list[int] = []

    async def prepare(driver):
        await registry.prepare(driver)
        prepared_on.append(id(driver))

    try:
        assert await db.open_pool(prepare=prepare) == (2 + BATCH_POOL_SIZE if backend.name == "postgresql" else 1)
        if backend.name != "postgresql":
            assert prepared_on == []  # statements on the driver are PostgreSQL's
            return
        assert len(set(prepared_on)) == BATCH_POOL_SIZE  # the batches' connections, not the shared pool's
        async with db.batch_engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            cached = {row[0] for row in await driver.fetch("SELECT statement FROM pg_prepared_statements")}
        assert {own_booking._BOOK_MANY, sold_out._ASK_MANY} <= cached

        async def broken(driver):
            raise RuntimeError("no such function")

        with caplog.at_level(logging.WARNING, logger="zhiyi.db"):
            await db.open_pool(prepare=broken)
        assert any(r.getMessage() == "statements not prepared at start" for r in caplog.records)
        assert db.engine.pool.checkedout() == db.batch_engine.pool.checkedout() == 0
    finally:
        await db.dispose()
