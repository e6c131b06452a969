"""A live page's stream (web/live.py) that is cancelled (the reader closed the page) while it holds a
database connection gives the connection back: on SQLite the process has only one, and one lost would
leave every later request, and the outbox worker, waiting for the pool."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request

from tests.conftest import make_settings
from zhiyi.core import migrate
from zhiyi.core.db import Database
from zhiyi.web import live


class _App:
    def __init__(self, db: Database):
        self.state = type("State", (), {"db": db})()


async def test_a_stream_cancelled_inside_its_session_returns_the_connection(fresh_db_url):
    await asyncio.to_thread(migrate.upgrade, fresh_db_url)
    db = Database(make_settings(fresh_db_url))
    inside, proceed = asyncio.Event(), asyncio.Event()

    async def version() -> int:
        async with db.sessionmaker() as s:
            inside.set()
            while not proceed.is_set():  # the reader's leaving finds it in the driver's hands
                await s.execute(text("SELECT 1"))
            return 1

    async def fragment(_session) -> dict:
        return {"html": ""}

    async def receive() -> dict:
        await inside.wait()
        asyncio.get_running_loop().call_soon(proceed.set)
        return {"type": "http.disconnect"}  # the reader has gone: the response's task group is cancelled

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    scope["app"] = _App(db)
    request = Request(scope, receive)
    try:
        response = live.stream(request, version=version, fragment=fragment, poll=0.01, lifetime=60)
        await response(scope, receive, send)
        assert inside.is_set()
        assert db.engine.pool.checkedout() == 0
        async with db.sessionmaker() as s:  # and the next reader gets it
            assert (await s.execute(text("SELECT 2"))).scalar() == 2
    finally:
        await db.dispose()
