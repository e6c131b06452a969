"""Database: declarative Base, engine and session factory for SQLite and PostgreSQL.

One async session per request or job, opened at the edge; services never commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from sqlalchemy import DateTime, Executable, MetaData, TypeDecorator, Uuid, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

from zhiyi.core import ids, jsonio
from zhiyi.core.config import Settings, ensure_sqlite_dir

_log = logging.getLogger("zhiyi.db")

# SQLite begins every transaction IMMEDIATE (even a GET writes: reads of patient data are
# audited), so concurrent writers queue on busy_timeout instead of failing on a stale
# snapshot. Code that only reads and must never wait sets it False. PostgreSQL ignores it.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both backends (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use core.clock")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, uuid.UUID: Uuid}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=ids.new_id)


class FairQueue(QueueCommon):
    """The idle connections of a pool, handed out first come, first served.

    SQLAlchemy's asyncio pool queue lets a request that arrives just as a connection comes back
    take it before the request that was woken for it, which then queues again at the back: under a
    rush some requests wait for the pool's whole timeout (and are answered 503) while others pass.
    Here a connection given back goes straight to the longest waiter, and a newcomer waits behind
    everyone already waiting."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False):
        self.maxsize, self.use_lifo = maxsize, use_lifo
        self._idle: deque = deque()
        self._waiters: deque[asyncio.Future] = deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def qsize(self) -> int:
        return len(self._idle)

    def put_nowait(self, item) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # skip those that timed out or were cancelled
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._idle.append(item)

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def get_nowait(self):
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def get(self, block: bool = True, timeout: float | None = None):
        if self._idle or not block:
            return self.get_nowait()
        try:
            return await_(self._wait(timeout))
        except TimeoutError:
            raise Empty() from None

    async def _wait(self, timeout: float | None):
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed over just as we gave up: pass it on
                self.put_nowait(waiter.result())
            waiter.cancel()
            raise


class FairPool(AsyncAdaptedQueuePool):
    _queue_class = FairQueue


# JSON columns read and written by orjson (core/jsonio.py: what it cannot, by the standard library)
JSON_IO = {"json_serializer": jsonio.dumps, "json_deserializer": jsonio.loads}


def make_engine(
    settings: Settings, *, pool_size: int | None = None, max_overflow: int | None = None
) -> AsyncEngine:
    """The process's engine (PostgreSQL: `db_pool_size` connections and as many more at a peak, handed
    out first come, first served); a pool of another size for a package that keeps connections apart."""
    url = settings.async_database_url
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        # one connection: SQLite has one writer at a time, and waiting for it in the pool (an
        # asyncio wait) is far cheaper than SQLite's busy handler sleeping and retrying
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=300, **JSON_IO
        )
        _sqlite_pragmas(engine)
    else:
        size = settings.db_pool_size if pool_size is None else pool_size
        overflow = size if max_overflow is None else max_overflow
        engine = create_async_engine(
            url, poolclass=FairPool, pool_size=size, max_overflow=overflow, pool_pre_ping=False, **JSON_IO
        )
    return engine


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and explicit BEGIN so savepoints work (pysqlite quirk)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):
        # A transaction that will write takes the write lock up front: in WAL mode a reader
        # that later tries to write fails at once (SQLITE_BUSY_SNAPSHOT) instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


class Database:
    """Holds the engine and session factory of one process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessionmaker = make_sessionmaker(self.engine)

    async def open_pool(self, timeout: float = 10.0) -> int:
        """Makes the pool's connections now, before the process serves (see open_connections)."""
        return await open_connections(self.engine, timeout)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def open_connections(
    engine: AsyncEngine, timeout: float = 10.0, prepare: Callable[[Any], Awaitable[None]] | None = None
) -> int:
    """Makes a pool's connections now, before the process serves: at a release instant the first
    thousand requests then wait for no connection to be made (each a TCP connect, a login and the
    driver's type set-up). `prepare(driver_connection)` runs on each (PostgreSQL: statements asked
    straight on the driver). A database that does not answer is logged and left to the first
    requests, as without this. Returns the connections opened."""
    size = engine.pool.size()
    tries = [asyncio.ensure_future(engine.connect().start()) for _ in range(size)]
    done, pending = await asyncio.wait(tries, timeout=timeout)
    for t in pending:
        t.cancel()
    if pending:  # settled before going on: one that connected as it was cancelled is closed below
        finished, _ = await asyncio.wait(pending)
        done |= finished
    opened = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    for conn in opened:
        try:
            if prepare is not None and engine.dialect.name == "postgresql":
                driver = (await conn.get_raw_connection()).driver_connection
                await asyncio.wait_for(prepare(driver), timeout)
        except Exception as exc:  # left to the first requests, as without this
            _log.warning("statements not prepared at start", extra={"error": type(exc).__name__})
        finally:
            await conn.close()  # back to the pool, which keeps up to its size open
    failed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
    if pending or failed:
        _log.warning(
            "database pool not fully opened at start",
            extra={"opened": len(opened), "error": type(failed[0]).__name__ if failed else "timeout"},
        )
    return len(opened)


KEEP_KEY = "zhiyi.keep_after_rollback"


def keep_after_rollback(session, item) -> None:
    """Writes that must happen whether or not the request succeeds (audit of denials,
    login failures, counted wrong guesses): a new ORM row, or an UPDATE/INSERT statement
    (for a counter, since a rollback discards changes made to loaded rows)."""
    session.info.setdefault(KEEP_KEY, []).append(item)


COMMIT_ANYWAY_KEY = "zhiyi.commit_even_if_failed"


def commit_even_if_failed(session) -> None:
    """The failure is the change (a recorded login failure): the edge commits this
    transaction even though the request answers with an error, inside whatever locks
    the transaction holds, so concurrent requests see it at once."""
    session.info[COMMIT_ANYWAY_KEY] = True


async def write_kept(session) -> bool:
    """Apply the kept writes in the session's current transaction; True if there were any."""
    kept = session.info.pop(KEEP_KEY, [])
    for item in kept:
        if isinstance(item, Executable):
            await session.execute(item)
        else:
            session.add(item)
    return bool(kept)
