"""Queries of session changes (scheduling/changes.py): stopping and moving clinic sessions."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.scheduling.models import ACTIVE_BOOKING, Booking, ClinicSession, Slot, WaitlistEntry


async def mark_stopped(session: AsyncSession, session_id: uuid.UUID) -> bool:
    """open -> stopped by one conditional UPDATE (of two concurrent stops, one wins)."""
    done = await session.execute(
        update(ClinicSession)
        .where(ClinicSession.id == session_id, ClinicSession.status == "open")
        .values(status="stopped")
        .returning(ClinicSession.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


async def lock_slots(session: AsyncSession, session_id: uuid.UUID) -> list[Slot]:
    """The session's slots, locked: waits for bookings that hold one of them to finish, and makes
    later ones wait for this change (SQLite: the transaction is the one writer already)."""
    q = select(Slot).where(Slot.session_id == session_id).order_by(Slot.starts_at)
    if session.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    return list((await session.scalars(q.execution_options(populate_existing=True))).all())


async def active_bookings(session: AsyncSession, session_id: uuid.UUID) -> list[Booking]:
    q = (
        select(Booking)
        .where(Booking.session_id == session_id, Booking.status.in_(ACTIVE_BOOKING))
        .order_by(Booking.created_at)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(q)).all())


async def close_slots(session: AsyncSession, session_id: uuid.UUID) -> None:
    """A stopped session sells nothing: every slot's capacity and count drop to zero, so a booking
    that waited on a slot's lock finds it full."""
    await session.execute(
        update(Slot)
        .where(Slot.session_id == session_id)
        .values(booked=0, capacity=0)
        .execution_options(synchronize_session=False)
    )


async def shift(
    session: AsyncSession, cs: ClinicSession, slots: list[Slot], delta: dt.timedelta, day: dt.date
) -> None:
    cs.starts_at, cs.ends_at, cs.session_on = cs.starts_at + delta, cs.ends_at + delta, day
    for s in slots:
        s.starts_at, s.ends_at = s.starts_at + delta, s.ends_at + delta
    await session.execute(
        update(Booking)
        .where(Booking.session_id == cs.id, Booking.status.in_(ACTIVE_BOOKING))
        .values(session_on=day, reminded_at=None)  # reminded again of the new time
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.session_id == cs.id)
        .values(session_on=day)
        .execution_options(synchronize_session=False)
    )  # the line's real-name checks follow
    await session.flush()


async def other_active_booking(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    department_id: uuid.UUID,
    day: dt.date,
    besides: uuid.UUID,
) -> bool:
    q = select(Booking.id).where(
        Booking.patient_id == patient_id,
        Booking.department_id == department_id,
        Booking.session_on == day,
        Booking.status.in_(ACTIVE_BOOKING),
        Booking.id != besides,
    )
    return (await session.scalar(q.limit(1))) is not None


async def doctor_busy(
    session: AsyncSession, *, practitioner_id: uuid.UUID, day: dt.date, period: str, besides: uuid.UUID
) -> bool:
    q = select(ClinicSession.id).where(
        ClinicSession.practitioner_id == practitioner_id,
        ClinicSession.session_on == day,
        ClinicSession.period == period,
        ClinicSession.id != besides,
    )
    return (await session.scalar(q.limit(1))) is not None
