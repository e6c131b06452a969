"""The idempotency records' table and every query of it (core.idempotency claims keys and stores answers
through these).

The model lives here, not in core.idempotency, so that this module needs nothing of core.idempotency
(which imports it): core.idempotency re-exports IdempotencyRecord.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Uuid, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]


_t = IdempotencyRecord.__table__
# built once
_REMEMBER = update(_t).where(_t.c.account_id == bindparam("a", type_=Uuid()), _t.c.key == bindparam("k"))


def _claim_statement(insert_of_dialect):
    return (
        insert_of_dialect(_t).on_conflict_do_nothing(index_elements=["account_id", "key"]).returning(_t.c.key)
    )


# Core, built once per dialect: every booking claims a key, so no statement building or ORM insert
# bookkeeping per request
_CLAIM = {"postgresql": _claim_statement(pg_insert), "sqlite": _claim_statement(sqlite_insert)}


async def insert_unless_taken(session: AsyncSession, values: dict[str, Any]) -> bool:
    """INSERT the record .. ON CONFLICT DO NOTHING; True when it was inserted (the key was free). On
    PostgreSQL it waits for a concurrent holder of the key to commit or roll back."""
    claimed = await session.execute(_CLAIM[session.bind.dialect.name], values)
    return claimed.first() is not None


async def record_of(session: AsyncSession, *, account_id: uuid.UUID, key: str) -> IdempotencyRecord:
    """The stored record of `key` (there is one)."""
    return (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
            )
        )
    ).scalar_one()


async def store_answer(
    session: AsyncSession, *, account_id: uuid.UUID, key: str, status_code: int, response: dict[str, Any]
) -> None:
    await session.execute(
        _REMEMBER, {"a": account_id, "k": key, "status_code": status_code, "response": response}
    )
