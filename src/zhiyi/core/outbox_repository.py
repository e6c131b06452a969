"""The outbox's table and every query of it (core.outbox publishes and delivers through these).

The model lives here, not in core.outbox, so that this module needs nothing of core.outbox (which imports
it): core.outbox re-exports OutboxEvent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Select, String, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core import clock
from zhiyi.core.db import Base, IdMixin


class OutboxEvent(IdMixin, Base):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "delivered_at", "available_at"),)

    topic: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    available_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


_INSERT = insert(OutboxEvent.__table__)  # Core, built once


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    """One INSERT of an event row in the caller's transaction, no unit-of-work bookkeeping."""
    await session.execute(_INSERT, values)


def _due(q: Select, session: AsyncSession, *, topics: list[str], heard: bool, max_attempts: int, limit: int):
    """Pending events due now, of `topics` (someone listens to them) or, `heard=False`, of no topic in
    `topics`, oldest first, skipping those another worker has claimed (PostgreSQL)."""
    q = q.where(
        OutboxEvent.delivered_at.is_(None),
        OutboxEvent.available_at <= clock.now(),
        OutboxEvent.attempts < max_attempts,
        OutboxEvent.topic.in_(topics) if heard else OutboxEvent.topic.not_in(topics),
    )
    q = q.order_by(OutboxEvent.created_at).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return q


async def claim_heard(
    session: AsyncSession, *, topics: list[str], max_attempts: int, limit: int
) -> list[OutboxEvent]:
    """Load (and, on PostgreSQL, lock) up to `limit` due events of the topics someone listens to."""
    q = _due(select(OutboxEvent), session, topics=topics, heard=True, max_attempts=max_attempts, limit=limit)
    return list((await session.scalars(q)).all())


async def deliver_unheard(session: AsyncSession, *, topics: list[str], max_attempts: int, limit: int) -> int:
    """Mark up to `limit` due events of no topic in `topics` delivered, in one statement: no objects
    loaded, no row-by-row UPDATEs. Returns how many (0 when the driver cannot count)."""
    due = _due(
        select(OutboxEvent.id), session, topics=topics, heard=False, max_attempts=max_attempts, limit=limit
    ).scalar_subquery()
    done = await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(due))
        .values(delivered_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return max(done.rowcount, 0)  # a driver that cannot count must not keep the worker from resting
