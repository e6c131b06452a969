"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

Each backend gets a fresh database built by the real migrations; each test runs
inside a transaction that is rolled back at the end (the app's commits become
savepoints), so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from zhiyi.app import create_app
from zhiyi.core import clock, migrate, outbox
from zhiyi.core.config import Settings, use
from zhiyi.core.db import JSON_IO, Database, _sqlite_pragmas
from zhiyi.domains.scheduling.rush import pool as rush_pool
from zhiyi.integrations.notifications import sandbox as sandbox_channel

PG_ADMIN = os.environ.get("ZHIYI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_SECRET = "zhiyi-test-secret-0123456789abcdef0123456789"


def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any connection failure
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"


def make_settings(url: str) -> Settings:
    return use(
        Settings(
            database_url=url,
            secret_key=TEST_SECRET,
            notification_channel="sandbox",
            in_process_worker=False,
            env="test",
            log_json=False,
        )
    )


@dataclass
class Backend:
    name: str
    url: str


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory) -> Backend:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "zhiyi-test.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        yield Backend("sqlite", url)
        return
    reason = pg_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    name = f"zhiyi_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = _pg_create(name)
    try:
        migrate.upgrade(url)
        yield Backend("postgresql", url)
    finally:
        _pg_drop(name)


def _pg_create(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_db_url(backend, tmp_path):
    """An empty database of the current backend for tests that must really commit (CLI, seeding)."""
    if backend.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"zhiyi_fresh_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = _pg_create(name)
    try:
        yield url
    finally:
        _pg_drop(name)


@dataclass
class LiveApp:
    """The real app on a fresh, migrated database with its own pooled connections and real
    commits: for races, which a single rolled-back test connection would serialise away."""

    db: Database
    client: httpx.AsyncClient


@pytest.fixture
def rush_lane() -> bool | None:
    """ZHIYI_RUSH_LANE of the test's app: None, the default (on with PostgreSQL). A booking module runs
    with the lane on and off by parametrizing it (LANE_ON_AND_OFF)."""
    return None


LANE_ON_AND_OFF = pytest.mark.parametrize("rush_lane", [None, False], ids=["lane", "no-lane"])


def pytest_collection_modifyitems(config, items):
    """SQLite has no lane: its "no-lane" runs would repeat its default ones."""
    keep, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        (dropped if params.get("rush_lane") is False and params.get("backend") == "sqlite" else keep).append(
            item
        )
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
async def live_app(fresh_db_url, rush_lane) -> AsyncIterator[LiveApp]:
    await asyncio.to_thread(migrate.upgrade, fresh_db_url)
    db = Database(make_settings(fresh_db_url).model_copy(update={"rush_lane": rush_lane}))
    transport = httpx.ASGITransport(app=create_app(db.settings, database=db))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=120) as client:
            yield LiveApp(db, client)
    finally:
        await rush_pool.stop(db)  # the batches' connections (the test client runs no lifespan)
        await db.dispose()


@pytest.fixture(scope="session")
async def engine(backend):
    settings = make_settings(backend.url)
    eng = create_async_engine(settings.async_database_url, **JSON_IO)
    if backend.name == "sqlite":
        _sqlite_pragmas(eng)
    yield eng
    await eng.dispose()


class TestDatabase:
    """Stands in for core.db.Database: sessions join the test's outer transaction."""

    def __init__(self, engine, connection):
        self.engine = engine
        # the batched statements' connections (the rush lane's), outside the test's transaction
        rush_pool.use(self, engine)
        self.sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, autoflush=True, join_transaction_mode="create_savepoint"
        )

    async def dispose(self) -> None:
        pass


@pytest.fixture
async def db(engine, backend) -> AsyncIterator[TestDatabase]:
    make_settings(backend.url)
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            yield TestDatabase(engine, conn)
        finally:
            await trans.rollback()


@pytest.fixture
async def session(db) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture
def settings(backend, rush_lane) -> Settings:
    return make_settings(backend.url).model_copy(update={"rush_lane": rush_lane})


@pytest.fixture
async def app(db, settings):
    return create_app(settings, database=db)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def drain(db):
    """Run the outbox worker once, as the in-process worker would after a commit."""

    async def run() -> int:
        async with db.sessionmaker() as s:
            n = await outbox.deliver_pending(s)
            await s.commit()
            return n

    return run


@pytest.fixture
def daytime():
    """The clock stopped at 10:30 today in the hospital's zone, for a test whose world is "a clinic
    now" and that is about something else than midnight (asked first, before the world is made;
    what a clinic past midnight does has tests of its own)."""
    yield from stopped_at(10, 30)


def stopped_at(hour: int, minute: int):
    """The clock stopped today at hour:minute in the hospital's zone, for a fixture to yield from (it
    yields that local time, and starts the clock again after the test)."""
    local = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    clock.freeze(local.astimezone(dt.UTC))
    try:
        yield local
    finally:
        clock.freeze(None)


@pytest.fixture
def sandbox():
    sandbox_channel.outbox.clear()
    return sandbox_channel


def data_path(*parts: str) -> Path:
    return Path(__file__).parent / "data" / Path(*parts)


def _shared_data() -> Path:
    """ZHIYI_SHARED_DATA, else ../shared/data beside the checkout, else the workplace's /work/shared/data
    (a clone elsewhere, such as CI's, has no sibling folder)."""
    if os.environ.get("ZHIYI_SHARED_DATA"):
        return Path(os.environ["ZHIYI_SHARED_DATA"])
    for candidate in (
        Path(__file__).resolve().parents[1].parent / "shared" / "data",
        Path("/work/shared/data"),
    ):
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


SHARED_DATA = _shared_data()


def shared_data(*parts: str) -> Path:
    """A file of the public reference data kept beside the project (../shared/data, each with a README
    of its source); the project commits no copy. Missing: a failure under CI, elsewhere a skip."""
    path = SHARED_DATA / Path(*parts)
    if not path.exists():
        reason = f"public reference data not found: {path} (set ZHIYI_SHARED_DATA)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return path
