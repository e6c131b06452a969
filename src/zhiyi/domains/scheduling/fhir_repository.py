"""The queries of the scheduling domain's FHIR projection (fhir.py): a clinic session with its slots and
bookings, and every session a page at a time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.scheduling.models import Booking, ClinicSession, Slot


@dataclass
class SessionRows:
    cs: ClinicSession
    slots: list[Slot] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)


async def sessions_with_rows(
    session: AsyncSession,
    *,
    ids: list[uuid.UUID] | None = None,
    after: uuid.UUID | None = None,
    limit: int = 100,
) -> list[SessionRows]:
    """Sessions (these ids, or the next `limit` after `after` in id order) with their slots and bookings."""
    q = select(ClinicSession).order_by(ClinicSession.id).execution_options(populate_existing=True)
    if ids is not None:
        q = q.where(ClinicSession.id.in_(ids))
    else:
        q = q.limit(limit)
        if after is not None:
            q = q.where(ClinicSession.id > after)
    found = {cs.id: SessionRows(cs) for cs in (await session.scalars(q)).all()}
    if not found:
        return []
    slots = (
        select(Slot)
        .where(Slot.session_id.in_(found))
        .order_by(Slot.starts_at, Slot.id)
        .execution_options(populate_existing=True)
    )
    for slot in (await session.scalars(slots)).all():
        found[slot.session_id].slots.append(slot)
    bookings = (
        select(Booking)
        .where(Booking.session_id.in_(found))
        .order_by(Booking.created_at, Booking.id)
        .execution_options(populate_existing=True)
    )
    for b in (await session.scalars(bookings)).all():
        found[b.session_id].bookings.append(b)
    return list(found.values())


async def booking_rows(
    session: AsyncSession, booking_id: uuid.UUID
) -> tuple[Booking, Slot, ClinicSession] | None:
    q = (
        select(Booking, Slot, ClinicSession)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(Booking.id == booking_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(q)).first()
    return (row[0], row[1], row[2]) if row else None


async def slot_rows(session: AsyncSession, slot_id: uuid.UUID) -> tuple[Slot, ClinicSession] | None:
    q = (
        select(Slot, ClinicSession)
        .join(ClinicSession, ClinicSession.id == Slot.session_id)
        .where(Slot.id == slot_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(q)).first()
    return (row[0], row[1]) if row else None
