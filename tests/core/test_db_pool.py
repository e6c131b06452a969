"""A server process makes its pool's connections before it serves (core.db.Database.open_pool)."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import make_settings
from zhiyi.app import create_app
from zhiyi.core.config import Settings
from zhiyi.core.db import Database


async def test_the_app_opens_its_pool_before_it_serves(fresh_db_url):
    settings = make_settings(fresh_db_url).model_copy(
        update={"db_pool_size": 3, "db_pool_open_at_start": True}
    )
    db = Database(settings)
    app = create_app(settings, database=db)
    try:
        assert db.engine.pool.checkedin() == 0  # nothing made yet
        async with app.router.lifespan_context(app):
            size = db.engine.pool.size()
            # all made, none held
            assert db.engine.pool.checkedin() == size and db.engine.pool.checkedout() == 0
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
    db = Database(
        Settings(database_url="postgresql://postgres@127.0.0.1:9/none", secret_key="k" * 43, db_pool_size=2)
    )
    try:
        with caplog.at_level(logging.WARNING, logger="zhiyi.db"):
            assert await db.open_pool(timeout=5) == 0
        assert db.engine.pool.checkedout() == 0
        assert any(r.getMessage() == "database pool not fully opened at start" for r in caplog.records)
    finally:
        await db.dispose()


@pytest.mark.parametrize("size", [1, 4])
async def test_it_opens_as_many_as_the_pool_keeps(fresh_db_url, size, backend):
    db = Database(make_settings(fresh_db_url).model_copy(update={"db_pool_size": size}))
    try:
        opened = await db.open_pool()
        assert db.engine.pool.size() == db.engine.pool.checkedin()
        assert opened == (1 if backend.name == "sqlite" else size)  # SQLite's pool is one connection
    finally:
        await db.dispose()
