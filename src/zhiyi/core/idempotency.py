"""Idempotency keys: the first answer to a request is stored with its key and replayed
for every retry, so a retried request can never act twice.

The key is claimed inside the request's transaction. A concurrent
request with the same key blocks on the primary key until the first commits or rolls
back: if it committed, the second replays its answer; if it rolled back (say the slot
was full), the second proceeds as a fresh attempt.
The table and every query of it are core.idempotency_repository's (IdempotencyRecord is re-exported here).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, idempotency_repository
from zhiyi.core.errors import FieldError, RuleViolated, ValidationFailed
from zhiyi.core.idempotency_repository import IdempotencyRecord

KEY_RE = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")


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


async def claim(
    session: AsyncSession, *, account_id: uuid.UUID, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Claim `key` for this request. Returns None when it is ours to answer, or the stored
    record of the earlier request with this key (to replay).

    One INSERT .. ON CONFLICT DO NOTHING: on PostgreSQL it waits for a concurrent holder of
    the key to commit (then we replay) or roll back (then the key is ours)."""
    claimed = await idempotency_repository.insert_unless_taken(
        session,
        {
            "account_id": account_id,
            "key": key,
            "request_hash": fingerprint,
            "status_code": 0,
            "response": {},
            "created_at": clock.now(),
        },
    )
    if claimed:
        return None
    earlier = await idempotency_repository.record_of(session, account_id=account_id, key=key)
    if earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return earlier


async def remember(
    session: AsyncSession, *, account_id: uuid.UUID, key: str, status_code: int, response: dict[str, Any]
) -> None:
    await idempotency_repository.store_answer(
        session, account_id=account_id, key=key, status_code=status_code, response=response
    )
