"""Every query on the scheduling domain's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, Row, Uuid, bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.db import UTCDateTime
from zhiyi.domains.scheduling.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingSuspension,
    ClinicSession,
    ClinicTemplate,
    ReleasePolicy,
    Slot,
)


async def templates(session: AsyncSession) -> list[ClinicTemplate]:
    return list((await session.scalars(select(ClinicTemplate))).all())


async def release_policies(session: AsyncSession) -> dict[uuid.UUID, ReleasePolicy]:
    return {p.department_id: p for p in (await session.scalars(select(ReleasePolicy))).all()}


async def existing_session_keys(session: AsyncSession, first: dt.date, last: dt.date) -> set[tuple]:
    rows = await session.execute(select(ClinicSession.practitioner_id, ClinicSession.session_on, ClinicSession.period)
                                 .where(ClinicSession.session_on.between(first, last)))
    return {tuple(r) for r in rows.all()}


async def insert_sessions(session: AsyncSession, sessions: list[dict], slots: list[dict]) -> None:
    """Bulk insert (executemany): thousands of slots per generation run."""
    if sessions:
        await session.execute(insert(ClinicSession), sessions)
    if slots:
        await session.execute(insert(Slot), slots)


async def slot_with_session(session: AsyncSession, slot_id: uuid.UUID) -> tuple[Slot, ClinicSession] | None:
    row = (await session.execute(select(Slot, ClinicSession).join(ClinicSession, ClinicSession.id == Slot.session_id)
                                 .where(Slot.id == slot_id))).first()
    return (row[0], row[1]) if row else None


_slot = Slot.__table__
# Core statements built once (the booking hot path pays no statement building or ORM DML bookkeeping)
_TAKE = (update(_slot).where(_slot.c.id == bindparam("slot_id", type_=Uuid()), _slot.c.booked < _slot.c.capacity)
         .values(booked=_slot.c.booked + 1).returning(_slot.c.id, _slot.c.starts_at, _slot.c.ends_at))
_INSERT_BOOKING = insert(Booking.__table__)


async def take_place(session: AsyncSession, slot_id: uuid.UUID) -> Row | None:
    """Atomically take one place if any is left: the database decides, so never over capacity.
    Returns the slot's (id, starts_at, ends_at), or None when it was full."""
    return (await session.execute(_TAKE, {"slot_id": slot_id})).first()


async def take_place_in_session(session: AsyncSession, session_id: uuid.UUID, now: dt.datetime) -> Row | None:
    """Take the earliest free place of a session; None when the session is sold out.

    PostgreSQL: first skip rows other bookings hold (no queue on one hot row); if every free
    row is held, wait for them, since a holder may yet roll back and free its place (so a
    patient is never told "full" while a place is still to be had)."""
    free = (select(Slot.id).where(Slot.session_id == session_id, Slot.booked < Slot.capacity, Slot.starts_at > now)
            .order_by(Slot.starts_at, Slot.id).limit(1))
    if session.bind.dialect.name != "postgresql":  # SQLite: the transaction holds the write lock already
        slot_id = await session.scalar(free)
        return await take_place(session, slot_id) if slot_id is not None else None
    for attempt in range(5):
        slot_id = await session.scalar(free.with_for_update(skip_locked=attempt == 0))
        taken = await take_place(session, slot_id) if slot_id is not None else None
        if taken is not None:
            return taken
        if slot_id is None and attempt > 0:
            return None
    return None


async def insert_booking(session: AsyncSession, values: dict) -> None:
    """One INSERT (no unit-of-work bookkeeping on the booking hot path)."""
    await session.execute(_INSERT_BOOKING, values)


async def mark_cancelled(session: AsyncSession, booking_id: uuid.UUID, at: dt.datetime) -> bool:
    result = await session.execute(update(Booking).where(Booking.id == booking_id, Booking.status.in_(ACTIVE_BOOKING))
                                   .values(status="cancelled", cancelled_at=at).returning(Booking.id)
                                   .execution_options(synchronize_session=False))
    return result.first() is not None


async def give_back_place(session: AsyncSession, slot_id: uuid.UUID) -> None:
    await session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked > 0)
                          .values(booked=Slot.booked - 1).execution_options(synchronize_session=False))


async def has_active_booking(session: AsyncSession, *, patient_id: uuid.UUID, department_id: uuid.UUID,
                             day: dt.date) -> bool:
    return bool(await session.scalar(select(exists().where(
        Booking.patient_id == patient_id, Booking.department_id == department_id, Booking.session_on == day,
        Booking.status.in_(ACTIVE_BOOKING)))))


_booking, _suspension = Booking.__table__, BookingSuspension.__table__
_BLOCKERS = select(
    exists().where(_booking.c.patient_id == bindparam("patient_id", type_=Uuid()),
                   _booking.c.department_id == bindparam("department_id", type_=Uuid()),
                   _booking.c.session_on == bindparam("day", type_=Date()), _booking.c.status.in_(ACTIVE_BOOKING)),
    select(_suspension.c.ends_at).where(_suspension.c.patient_id == bindparam("patient_id", type_=Uuid()),
                                        _suspension.c.ends_at > bindparam("now", type_=UTCDateTime()))
    .scalar_subquery(),
)


async def booking_blockers(session: AsyncSession, *, patient_id: uuid.UUID, department_id: uuid.UUID, day: dt.date,
                           now: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """(an active booking this department and day, the end of an online-booking suspension): one
    statement on the booking hot path, two index lookups (the real-name index, a primary key)."""
    row = (await session.execute(_BLOCKERS, {"patient_id": patient_id, "department_id": department_id, "day": day,
                                             "now": now})).one()
    return bool(row[0]), row[1]


async def get_booking(session: AsyncSession, booking_id: uuid.UUID) -> Booking | None:
    return await session.get(Booking, booking_id)


async def bookings_of(session: AsyncSession, patient_ids: list[uuid.UUID], since: dt.date) -> list[tuple[Booking, Slot, ClinicSession]]:
    q = (select(Booking, Slot, ClinicSession).join(Slot, Slot.id == Booking.slot_id)
         .join(ClinicSession, ClinicSession.id == Booking.session_id)
         .where(Booking.patient_id.in_(patient_ids), Booking.session_on >= since)
         .order_by(Slot.starts_at))
    return [(b, s, c) for b, s, c in (await session.execute(q)).all()]


async def find_sessions(session: AsyncSession, *, department_ids: list[uuid.UUID] | None, campus_id: uuid.UUID | None,
                        practitioner_id: uuid.UUID | None, first: dt.date, last: dt.date,
                        limit: int) -> list[tuple[ClinicSession, int, int]]:
    """Open sessions with (capacity, booked) summed over their slots."""
    q = (select(ClinicSession, func.sum(Slot.capacity), func.sum(Slot.booked))
         .join(Slot, Slot.session_id == ClinicSession.id)
         .where(ClinicSession.session_on.between(first, last), ClinicSession.status == "open")
         .group_by(ClinicSession.id).order_by(ClinicSession.starts_at).limit(limit))
    if department_ids is not None:
        q = q.where(ClinicSession.department_id.in_(department_ids))
    if campus_id is not None:
        q = q.where(ClinicSession.campus_id == campus_id)
    if practitioner_id is not None:
        q = q.where(ClinicSession.practitioner_id == practitioner_id)
    return [(s, int(c or 0), int(b or 0)) for s, c, b in (await session.execute(q)).all()]


async def get_session(session: AsyncSession, session_id: uuid.UUID) -> ClinicSession | None:
    return await session.get(ClinicSession, session_id)


async def slots_of(session: AsyncSession, session_id: uuid.UUID) -> list[Slot]:
    return list((await session.scalars(select(Slot).where(Slot.session_id == session_id).order_by(Slot.starts_at))).all())


async def departments_with_sessions(session: AsyncSession, *, first: dt.date, last: dt.date) -> set[uuid.UUID]:
    q = (select(ClinicSession.department_id).distinct()
         .where(ClinicSession.session_on.between(first, last), ClinicSession.status == "open"))
    return set((await session.scalars(q)).all())


async def bookings_on(session: AsyncSession, patient_id: uuid.UUID, day: dt.date) -> list[tuple[Booking, Slot, ClinicSession]]:
    q = (select(Booking, Slot, ClinicSession).join(Slot, Slot.id == Booking.slot_id)
         .join(ClinicSession, ClinicSession.id == Booking.session_id)
         .where(Booking.patient_id == patient_id, Booking.session_on == day).order_by(Slot.starts_at))
    return [(b, s, c) for b, s, c in (await session.execute(q)).all()]


async def change_status(session: AsyncSession, booking_id: uuid.UUID, *, old: tuple[str, ...], new: str) -> bool:
    """One conditional UPDATE: of concurrent changes, exactly one finds the old status."""
    result = await session.execute(update(Booking).where(Booking.id == booking_id, Booking.status.in_(old))
                                   .values(status=new).returning(Booking.id)
                                   .execution_options(synchronize_session=False))
    return result.first() is not None
