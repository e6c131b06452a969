"""The audit trail's table and every query of it (core.audit writes and reads the trail through these).

The model lives here, not in core.audit, so that this module needs nothing of core.audit (which imports
it): core.audit re-exports AuditEvent, `trail` and `search`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Index, Select, String, and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_at", "patient_id", "at"),
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_at", "actor_account_id", "at"),
    )

    at: Mapped[dt.datetime]
    actor_account_id: Mapped[uuid.UUID | None]
    actor_roles: Mapped[str] = mapped_column(String(100), default="")
    on_behalf_of_patient_id: Mapped[uuid.UUID | None]
    patient_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60))
    resource_type: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))  # allowed | denied | not_found
    request_id: Mapped[str | None] = mapped_column(String(32))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    # why, when the actor had to say (a full ID number shown)
    reason: Mapped[str | None] = mapped_column(String(200))


_INSERT = insert(AuditEvent.__table__)  # Core, built once: no ORM bulk machinery per request


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    """One INSERT of a trail row now (core.audit.event_values), no unit-of-work bookkeeping."""
    await session.execute(_INSERT, values)


async def trail(
    session: AsyncSession, *, patient_id: uuid.UUID, limit: int = 200, before: dt.datetime | None = None
) -> list[AuditEvent]:
    q = select(AuditEvent).where(AuditEvent.patient_id == patient_id)
    if before is not None:
        q = q.where(AuditEvent.at < before)
    q = q.order_by(AuditEvent.at.desc()).limit(limit)
    return list((await session.scalars(q)).all())


async def search(
    session: AsyncSession,
    *,
    patient_ids: Select | list[uuid.UUID] | None = None,
    actor_account_ids: list[uuid.UUID] | None = None,
    actions: list[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before: tuple[dt.datetime, uuid.UUID] | None = None,
    with_no_patient: bool = True,
    limit: int = 100,
) -> list[AuditEvent]:
    """Trail rows, newest first, filtered; `before` (at, id) pages on from the last row shown.
    `patient_ids` may be a query of ids (a campus's patients); rows about no patient only when
    `with_no_patient`."""
    q = select(AuditEvent)
    if patient_ids is not None:
        about = AuditEvent.patient_id.in_(patient_ids)
        q = q.where(or_(about, AuditEvent.patient_id.is_(None)) if with_no_patient else about)
    elif not with_no_patient:
        q = q.where(AuditEvent.patient_id.is_not(None))
    if actor_account_ids is not None:
        q = q.where(AuditEvent.actor_account_id.in_(actor_account_ids))
    if actions:
        q = q.where(AuditEvent.action.in_(actions))
    if since is not None:
        q = q.where(AuditEvent.at >= since)
    if until is not None:
        q = q.where(AuditEvent.at < until)
    if before is not None:
        at, row_id = before
        q = q.where(or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < row_id)))
    return list(
        (await session.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))).all()
    )


async def get(session: AsyncSession, event_id: uuid.UUID) -> AuditEvent | None:
    return await session.get(AuditEvent, event_id)
