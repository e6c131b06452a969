"""Idempotency keys: the first answer to a request is stored with its key and replayed
for every retry, so a retried request can never act twice.

The key is claimed inside the request's transaction. A concurrent
request with the same key blocks on the primary key until the first commits or rolls
back: if it committed, the second replays its answer; if it rolled back (say the slot
was full), the second proceeds as a fresh attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Uuid, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core import clock
from zhiyi.core.db import Base
from zhiyi.core.errors import FieldError, RuleViolated, ValidationFailed

KEY_RE = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]


class IdempotencyKeyInvalid(ValidationFailed):
    code, message = (
        "idempotency_key_invalid",
        "Send an Idempotency-Key header of 8 to 64 letters, digits, - _ : or .",
    )


class IdempotencyKeyReused(RuleViolated):
    code, message = "idempotency_key_reused", "This Idempotency-Key was used for a different request."


def check_key(key: str | None) -> str:
    if key is None or not KEY_RE.match(key):
        raise IdempotencyKeyInvalid(
            errors=[FieldError("Idempotency-Key", IdempotencyKeyInvalid.message, "header")]
        )
    return key


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


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


async def claim(
    session: AsyncSession, *, account_id: uuid.UUID, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Claim `key` for this request. Returns None when it is ours to answer, or the stored
    record of the earlier request with this key (to replay).

    One INSERT .. ON CONFLICT DO NOTHING: on PostgreSQL it waits for a concurrent holder of
    the key to commit (then we replay) or roll back (then the key is ours)."""
    claimed = await session.execute(
        _CLAIM[session.bind.dialect.name],
        {
            "account_id": account_id,
            "key": key,
            "request_hash": fingerprint,
            "status_code": 0,
            "response": {},
            "created_at": clock.now(),
        },
    )
    if claimed.first() is not None:
        return None
    earlier = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
            )
        )
    ).scalar_one()
    if earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return earlier


async def remember(
    session: AsyncSession, *, account_id: uuid.UUID, key: str, status_code: int, response: dict[str, Any]
) -> None:
    await session.execute(
        _REMEMBER, {"a": account_id, "k": key, "status_code": status_code, "response": response}
    )
