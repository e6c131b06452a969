"""Alembic environment: runs the same migrations on SQLite and PostgreSQL (async drivers)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from zhiyi.core import audit, idempotency, outbox  # noqa: F401  (core tables)
from zhiyi.core.config import ensure_sqlite_dir, get_settings, to_async_url
from zhiyi.core.db import Base
from zhiyi.domains import registry  # noqa: F401  (domain tables)
from zhiyi.fhir import models as fhir_models  # noqa: F401  (the FHIR repository's tables)

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return to_async_url(config.get_main_option("sqlalchemy.url") or get_settings().database_url)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    existing = config.attributes.get("connection")
    if existing is not None:
        await existing.run_sync(_run_sync)
        return
    url = _url()
    ensure_sqlite_dir(url)
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
