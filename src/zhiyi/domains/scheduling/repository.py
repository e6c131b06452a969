"""Every query on the scheduling domain's bookings and places; those on sessions, slots, templates,
release policies and holidays are in sessions_repository.py, offered here too."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Date,
    Row,
    Uuid,
    and_,
    bindparam,
    exists,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.db import UTCDateTime
from zhiyi.domains.scheduling import rules
from zhiyi.domains.scheduling.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingStatus,
    ClinicSession,
    Slot,
    active_booking_sql,
)
from zhiyi.domains.scheduling.sessions_repository import (  # noqa: F401  (callers use repo.<name>)
    add_holidays,
    clashing_sessions,
    departments_with_sessions,
    existing_session_keys,
    find_sessions,
    first_slot,
    get_session,
    holidays,
    insert_sessions,
    release_policies,
    slots_of,
    templates,
)


async def slot_with_session(session: AsyncSession, slot_id: uuid.UUID) -> tuple[Slot, ClinicSession] | None:
    row = (
        await session.execute(
            select(Slot, ClinicSession)
            .join(ClinicSession, ClinicSession.id == Slot.session_id)
            .where(Slot.id == slot_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


_slot = Slot.__table__
# Core statements built once (the booking hot path pays no statement building or ORM DML bookkeeping)
_TAKE = (
    update(_slot)
    .where(_slot.c.id == bindparam("slot_id", type_=Uuid()), _slot.c.booked < _slot.c.capacity)
    .values(booked=_slot.c.booked + 1)
    .returning(_slot.c.id, _slot.c.starts_at, _slot.c.ends_at)
)
_INSERT_BOOKING = insert(Booking.__table__)

# PostgreSQL, the first try at a session's earliest free place: take one no other booking holds (SKIP
# LOCKED) and say, in the same statement, whether any place is free at all (held ones included), so
# that a sold-out session costs one round trip. (The plain read sees the statement's snapshot, not
# the place this statement takes; it only matters when none was taken.)
_free = _slot.alias("free")


def _free_in_session(s):
    # a free place; scheduling_book_own (rush/sql/) spells the same rule in SQL (change both)
    # parameters named unlike slot's columns: the UPDATE below would take them for values to SET
    return (
        s.c.session_id == bindparam("in_session", type_=Uuid()),
        s.c.booked < s.c.capacity,
        s.c.starts_at > bindparam("after", type_=UTCDateTime()),
    )


_took = (
    update(_slot)
    .where(
        _slot.c.id
        == select(_free.c.id)
        .where(*_free_in_session(_free))
        .order_by(_free.c.starts_at, _free.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery(),
        _slot.c.booked < _slot.c.capacity,
    )
    .values(booked=_slot.c.booked + 1)
    .returning(_slot.c.id, _slot.c.starts_at, _slot.c.ends_at)
    .cte("took")
)
_one_row = select(literal_column("1").label("one")).subquery("one_row")
_TAKE_FIRST_FREE = select(
    _took.c.id, _took.c.starts_at, _took.c.ends_at, exists().where(*_free_in_session(_free)).label("any_free")
).select_from(_one_row.outerjoin(_took, true()))


async def take_place(session: AsyncSession, slot_id: uuid.UUID) -> Row | None:
    """Atomically take one place if any is left: the database decides, so never over capacity.
    Returns the slot's (id, starts_at, ends_at), or None when it was full."""
    return (await session.execute(_TAKE, {"slot_id": slot_id})).first()


TAKE_ATTEMPTS = 20  # bounded: under extreme contention a patient is told "full" rather than kept forever


async def take_place_in_session(session: AsyncSession, session_id: uuid.UUID, now: dt.datetime) -> Row | None:
    """Take the earliest free place of a session: the slot's (id, starts_at, ends_at), or None when
    none was taken (sold out, or given up on after TAKE_ATTEMPTS).

    PostgreSQL: first skip rows other bookings hold (no queue on one hot row); if every free
    row is held, wait for them, since a holder may yet roll back and free its place (so a
    patient is never told "full" while a place is still to be had)."""
    if session.bind.dialect.name != "postgresql":  # SQLite: the transaction holds the write lock already
        slot_id = await session.scalar(_earliest_free(session_id, now))
        return await take_place(session, slot_id) if slot_id is not None else None
    first = (await session.execute(_TAKE_FIRST_FREE, {"in_session": session_id, "after": now})).one()
    if first.id is not None:
        return first
    if not first.any_free:  # nothing free, held or not: sold out (one round trip)
        return None
    free = _earliest_free(session_id, now)  # built only here: the common cases above need none
    for _ in range(TAKE_ATTEMPTS - 1):  # every free place is held by another booking: wait for one
        slot_id = await session.scalar(free.with_for_update())
        if slot_id is not None:
            taken = await take_place(session, slot_id)
            if taken is not None:
                return taken
            continue
        # A locking read that waited re-checks only the row it waited for: if that one filled up, it
        # finds nothing though other places may be free. Say "full" only when a plain read agrees.
        if await session.scalar(free) is None:
            return None
    return None


def _earliest_free(session_id: uuid.UUID, now: dt.datetime):
    return (
        select(Slot.id)
        .where(Slot.session_id == session_id, Slot.booked < Slot.capacity, Slot.starts_at > now)
        .order_by(Slot.starts_at, Slot.id)
        .limit(1)
    )


async def insert_booking(session: AsyncSession, values: dict) -> None:
    """One INSERT (no unit-of-work bookkeeping on the booking hot path)."""
    await session.execute(_INSERT_BOOKING, values)


def _insert_unless_booked_that_day(insert_of_dialect):
    # the booking's day is its session's, read by this statement: a move of the session that held the
    # slot's lock while the booking waited for it has committed by now, and the booking follows it.
    # The conflict target is the real-name index; its predicate is spelled as in the index (literals,
    # so that PostgreSQL can match the partial index when it plans the statement)
    day = (
        select(ClinicSession.session_on)
        .where(ClinicSession.id == bindparam("of_session", type_=Uuid()))
        .scalar_subquery()
    )
    return (
        insert_of_dialect(Booking.__table__)
        .values(session_on=day)
        .on_conflict_do_nothing(
            index_elements=["patient_id", "department_id", "session_on"],
            index_where=text(active_booking_sql()),
        )
        .returning(Booking.__table__.c.session_on)
    )


_INSERT_BOOKING_UNLESS_BOOKED = {
    "postgresql": _insert_unless_booked_that_day(pg_insert),
    "sqlite": _insert_unless_booked_that_day(sqlite_insert),
}


async def insert_booking_unless_booked(session: AsyncSession, values: dict) -> dt.date | None:
    """Insert an active booking, on its session's day, unless the patient already holds one in that
    department that day (the real-name index decides, also against a concurrent booking, which it
    waits for): the day, or None then. One statement, no savepoint: the transaction stays usable."""
    stmt = _INSERT_BOOKING_UNLESS_BOOKED[session.bind.dialect.name]
    return await session.scalar(stmt, {**values, "of_session": values["session_id"]})


async def mark_cancelled(session: AsyncSession, booking_id: uuid.UUID, at: dt.datetime) -> bool:
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status.in_(ACTIVE_BOOKING))
        .values(status="cancelled", cancelled_at=at)
        .returning(Booking.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def give_back_place(session: AsyncSession, slot_id: uuid.UUID) -> None:
    await session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )


async def has_active_booking(
    session: AsyncSession, *, patient_id: uuid.UUID, department_id: uuid.UUID, day: dt.date
) -> bool:
    return bool(await session.scalar(select(rules.booked_that_day(patient_id, department_id, day))))


_BLOCKERS = select(
    rules.booked_that_day(
        bindparam("patient_id", type_=Uuid()),
        bindparam("department_id", type_=Uuid()),
        bindparam("day", type_=Date()),
    ),
    rules.suspended_until(bindparam("patient_id", type_=Uuid()), bindparam("now", type_=UTCDateTime())),
)


async def booking_blockers(
    session: AsyncSession, *, patient_id: uuid.UUID, department_id: uuid.UUID, day: dt.date, now: dt.datetime
) -> tuple[bool, dt.datetime | None]:
    """(an active booking this department and day, the end of an online-booking suspension): one
    statement on the booking hot path, two index lookups (the real-name index, a primary key)."""
    row = (
        await session.execute(
            _BLOCKERS, {"patient_id": patient_id, "department_id": department_id, "day": day, "now": now}
        )
    ).one()
    return bool(row[0]), row[1]


# The booking hot path reads the session it books in (and a chosen slot's start) together with the
# patient's blockers there: one statement, where session, blockers (and slot) were two round trips.
_cs = ClinicSession.__table__
_TARGET_COLUMNS = (
    _cs.c.id,
    _cs.c.practitioner_id,
    _cs.c.department_id,
    _cs.c.campus_id,
    _cs.c.session_on,
    _cs.c.period,
    _cs.c.status,
    _cs.c.release_at,
    _cs.c.ends_at,
)
_PATIENT, _NOW = bindparam("patient_id", type_=Uuid()), bindparam("now", type_=UTCDateTime())
# the preconditions the database decides (rules.py), as columns: the service refuses by each with its reason
_RULES = (
    rules.patient_verified(_PATIENT).label("verified"),
    rules.booked_that_day(_PATIENT, _cs.c.department_id, _cs.c.session_on).label("taken"),
    rules.suspended_until(_PATIENT, _NOW).label("suspended_until"),
    rules.session_open(_cs).label("open"),
    rules.released(_cs, _NOW).label("released"),
    rules.not_over(_cs, _NOW).label("not_over"),
)
_TARGET_OF_SESSION = select(*_TARGET_COLUMNS, _cs.c.ends_at.label("bookable_until"), *_RULES).where(
    _cs.c.id == bindparam("session_id", type_=Uuid())
)
_TARGET_OF_SLOT = (
    select(*_TARGET_COLUMNS, _slot.c.starts_at.label("bookable_until"), *_RULES)
    .select_from(_slot.join(_cs, _cs.c.id == _slot.c.session_id))
    .where(_slot.c.id == bindparam("slot_id", type_=Uuid()))
)


async def booking_target(
    session: AsyncSession,
    *,
    slot_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    patient_id: uuid.UUID,
    now: dt.datetime,
) -> Row | None:
    """The clinic session a booking goes into (of the slot when one is chosen) with, in the same
    statement, what may stop this patient there (see booking_blockers). Columns: the session's id,
    practitioner_id, department_id, campus_id, session_on, period, status, release_at, ends_at; bookable_until
    (the chosen slot's start, else the session's end); taken; suspended_until. None: no such slot/session."""
    if slot_id is not None:
        return (
            await session.execute(_TARGET_OF_SLOT, {"slot_id": slot_id, "patient_id": patient_id, "now": now})
        ).first()
    return (
        await session.execute(
            _TARGET_OF_SESSION, {"session_id": session_id, "patient_id": patient_id, "now": now}
        )
    ).first()


async def get_booking(session: AsyncSession, booking_id: uuid.UUID) -> Booking | None:
    return await session.get(Booking, booking_id)


async def bookings_of(
    session: AsyncSession, patient_ids: list[uuid.UUID], since: dt.date
) -> list[tuple[Booking, Slot, ClinicSession]]:
    q = (
        select(Booking, Slot, ClinicSession)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(Booking.patient_id.in_(patient_ids), Booking.session_on >= since)
        .order_by(Slot.starts_at)
    )
    return [(b, s, c) for b, s, c in (await session.execute(q)).all()]


async def bookings_on(
    session: AsyncSession, patient_id: uuid.UUID, day: dt.date, last: dt.date | None = None
) -> list[tuple[Booking, Slot, ClinicSession]]:
    """A patient's bookings of `day` (through `last`, when given), in time order."""
    q = (
        select(Booking, Slot, ClinicSession)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(Booking.patient_id == patient_id, Booking.session_on.between(day, last or day))
        .order_by(Slot.starts_at)
    )
    return [(b, s, c) for b, s, c in (await session.execute(q)).all()]


async def change_status(
    session: AsyncSession, booking_id: uuid.UUID, *, old: tuple[str, ...], new: str
) -> bool:
    """One conditional UPDATE: of concurrent changes, exactly one finds the old status."""
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status.in_(old))
        .values(status=new)
        .returning(Booking.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def claim_reminders(session: AsyncSession, *, now: dt.datetime, until: dt.datetime) -> list[Row]:
    """Bookings still to be reminded whose time falls before `until`, marked reminded by one
    conditional UPDATE (several workers never claim one twice): (patient_id, slot_id, booked_by)."""
    soon = select(Slot.id).where(Slot.starts_at > now, Slot.starts_at <= until)
    return list(
        (
            await session.execute(
                update(Booking)
                .where(Booking.status == "booked", Booking.reminded_at.is_(None), Booking.slot_id.in_(soon))
                .values(reminded_at=now)
                .returning(Booking.patient_id, Booking.slot_id, Booking.booked_by_account_id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )


async def booked_in_care(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    since: dt.date,
    until: dt.date,
    practitioner_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
    campus_ids: frozenset[uuid.UUID] | None,
    by_campus: bool,
) -> bool:
    """A booking (not cancelled) of the patient between those days in a session of that practitioner, of that
    department at one of those campuses, or (by_campus) at one of those campuses (None: any)."""
    whom = []
    at_campus = true() if campus_ids is None else ClinicSession.campus_id.in_(campus_ids)
    if practitioner_id is not None:
        whom.append(ClinicSession.practitioner_id == practitioner_id)
    if department_id is not None:
        whom.append(and_(ClinicSession.department_id == department_id, at_campus))
    if by_campus:
        whom.append(at_campus)
    if not whom:
        return False
    q = (
        select(Booking.id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(
            Booking.patient_id == patient_id,
            Booking.status != BookingStatus.cancelled.value,
            Booking.session_on >= since,
            Booking.session_on <= until,
            or_(*whom),
        )
        .limit(1)
    )
    return await session.scalar(q) is not None
