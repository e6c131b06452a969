"""The models and the migrations agree, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from zhiyi.core.db import Base, write_intent
from zhiyi.domains import registry  # noqa: F401  (all tables)


async def test_models_match_migrations(db):
    write_intent.set(False)  # a reader beside the test's open write transaction (SQLite)
    async with db.engine.connect() as conn:

        def diff(sync_conn):
            ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return compare_metadata(ctx, Base.metadata)

        changes = await conn.run_sync(diff)
    assert changes == [], f"models and migrations disagree; run alembic revision --autogenerate: {changes}"
