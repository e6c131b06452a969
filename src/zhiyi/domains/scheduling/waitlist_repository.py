"""Every query on the waiting lists, their held places, no-shows and online-booking suspensions."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, Row, Uuid, and_, bindparam, case, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from zhiyi.core.db import UTCDateTime
from zhiyi.domains.scheduling.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingStatus,
    BookingSuspension,
    ClinicSession,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
)

WAITING, OFFERED = WaitlistStatus.waiting.value, WaitlistStatus.offered.value
NO_SHOW_LOCK = (
    7_424_960_001  # PostgreSQL advisory lock: one no-show marking at a time, so counts see each other
)


def _pg(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


# built once, as the statements below (every join, leave, accept and sweep takes it)
_LOCK_SESSIONS = (
    select(ClinicSession.id)
    .where(ClinicSession.id.in_(bindparam("session_ids", expanding=True)))
    .order_by(ClinicSession.id)
    .with_for_update(key_share=True)
)


async def lock_sessions(session: AsyncSession, session_ids: list[uuid.UUID]) -> None:
    """Serialise changes to the waiting lists of these clinic sessions: a row lock per session,
    always taken in id order (no deadlock between two sweeps) and before any entry is touched.
    FOR NO KEY UPDATE leaves bookings' foreign-key checks on the session row free.
    SQLite has one writer at a time already."""
    if _pg(session) and session_ids:
        await session.execute(_LOCK_SESSIONS, {"session_ids": list(session_ids)})


# built once (a rush's joins ask both): building a statement costs more than running it
_PLACES = select(
    func.count(), func.coalesce(func.sum(case((Slot.booked < Slot.capacity, 1), else_=0)), 0)
).where(
    Slot.session_id == bindparam("session_id", type_=Uuid()),
    Slot.starts_at > bindparam("now", type_=UTCDateTime()),
)


async def places(session: AsyncSession, session_id: uuid.UUID, now: dt.datetime) -> tuple[int, int]:
    """(times still to come, of them with a free place) of a clinic session."""
    row = (await session.execute(_PLACES, {"session_id": session_id, "now": now})).one()
    return int(row[0]), int(row[1])


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> WaitlistEntry | None:
    return await session.get(WaitlistEntry, entry_id, populate_existing=True)


_ahead = aliased(WaitlistEntry, name="ahead")


def _ahead_of(session_id, created_at, entry_id):
    """Entries waiting before this one in its session's line (first come, then id)."""
    return (
        select(func.count())
        .select_from(_ahead)
        .where(
            _ahead.session_id == session_id,
            _ahead.status == WAITING,
            or_(_ahead.created_at < created_at, and_(_ahead.created_at == created_at, _ahead.id < entry_id)),
        )
    )


def _insert_unless_waiting(insert_of_dialect):
    # the conflict target is the one-live-entry index; its predicate is spelled as in the index;
    # the new entry's place in line comes back with it (the entries ahead of it, before it was there)
    t = WaitlistEntry.__table__
    ahead = _ahead_of(
        bindparam("in_line", type_=Uuid()),
        bindparam("joined_at", type_=UTCDateTime()),
        bindparam("entry", type_=Uuid()),
    ).scalar_subquery()
    return (
        insert_of_dialect(t)
        .on_conflict_do_nothing(
            index_elements=["session_id", "patient_id"], index_where=text("status IN ('waiting', 'offered')")
        )
        .returning(t.c.id, ahead)
    )


_INSERT_UNLESS_WAITING = {
    "postgresql": _insert_unless_waiting(pg_insert),
    "sqlite": _insert_unless_waiting(sqlite_insert),
}


async def insert_entry_unless_waiting(session: AsyncSession, values: dict) -> int | None:
    """Insert a live entry unless the patient already has one in this session's line (the index
    decides, also against a concurrent join, which it waits for): its place in line (1 for the
    next), or None then. One statement, no savepoint: the transaction stays usable either way.
    Under the session's lock (lock_sessions), as every change to its line."""
    row = (
        await session.execute(
            _INSERT_UNLESS_WAITING[session.bind.dialect.name],
            {
                **values,
                "in_line": values["session_id"],
                "joined_at": values["created_at"],
                "entry": values["id"],
            },
        )
    ).first()
    return None if row is None else int(row[1] or 0) + 1


_POSITION = _ahead_of(
    bindparam("session_id", type_=Uuid()),
    bindparam("created_at", type_=UTCDateTime()),
    bindparam("entry_id", type_=Uuid()),
)
_PLACE_IN_LINE = case(
    (
        WaitlistEntry.status == WAITING,
        _ahead_of(WaitlistEntry.session_id, WaitlistEntry.created_at, WaitlistEntry.id).scalar_subquery() + 1,
    ),
    else_=None,
)


# built once: waiting patients ask for this every few seconds
_ENTRIES_OF = (
    select(WaitlistEntry, ClinicSession, Slot, _PLACE_IN_LINE)
    .join(ClinicSession, ClinicSession.id == WaitlistEntry.session_id)
    .outerjoin(Slot, Slot.id == WaitlistEntry.slot_id)
    .where(
        WaitlistEntry.patient_id.in_(bindparam("patient_ids", expanding=True)),
        WaitlistEntry.session_on >= bindparam("since", type_=Date()),
    )
    .order_by(ClinicSession.starts_at, WaitlistEntry.created_at)
)


async def entries_of(
    session: AsyncSession, patient_ids: list[uuid.UUID], since: dt.date
) -> list[tuple[WaitlistEntry, ClinicSession, Slot | None, int | None]]:
    """The entries with their sessions, held places and (while waiting) places in line: one statement."""
    if not patient_ids:
        return []
    rows = await session.execute(_ENTRIES_OF, {"patient_ids": list(patient_ids), "since": since})
    return [(e, c, s, p) for e, c, s, p in rows.all()]


async def position(
    session: AsyncSession, *, session_id: uuid.UUID, created_at: dt.datetime, entry_id: uuid.UUID
) -> int:
    """1 for the next in line."""
    ahead = await session.scalar(
        _POSITION, {"session_id": session_id, "created_at": created_at, "entry_id": entry_id}
    )
    return int(ahead or 0) + 1


def _eligible(now: dt.datetime):
    """Waiting patients who may take a place now: none holding an active booking in the department
    that day (the real-name rule), none with online booking suspended who joined online."""
    booked = exists().where(
        Booking.patient_id == WaitlistEntry.patient_id,
        Booking.department_id == WaitlistEntry.department_id,
        Booking.session_on == WaitlistEntry.session_on,
        Booking.status.in_(ACTIVE_BOOKING),
    )
    suspended = exists().where(
        BookingSuspension.patient_id == WaitlistEntry.patient_id, BookingSuspension.ends_at > now
    )
    return and_(~booked, or_(WaitlistEntry.channel != "online", ~suspended))


async def next_in_line(
    session: AsyncSession, session_id: uuid.UUID, now: dt.datetime
) -> WaitlistEntry | None:
    """The first eligible waiting patient, in the order they joined (the caller holds the session's lock)."""
    return await session.scalar(
        select(WaitlistEntry)
        .where(WaitlistEntry.session_id == session_id, WaitlistEntry.status == WAITING, _eligible(now))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .limit(1)
    )


def _change(entry_id: uuid.UUID, old: str, **values):
    return (
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == old)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def make_offer(
    session: AsyncSession,
    entry_id: uuid.UUID,
    *,
    slot_id: uuid.UUID,
    now: dt.datetime,
    hold_until: dt.datetime,
) -> bool:
    """waiting -> offered, holding a place of `slot_id` (whose counter still counts it)."""
    result = await session.execute(
        _change(
            entry_id, WAITING, status=OFFERED, slot_id=slot_id, offered_at=now, hold_expires_at=hold_until
        ).returning(WaitlistEntry.id)
    )
    return result.first() is not None


async def close_offer(
    session: AsyncSession, entry_id: uuid.UUID, *, status: str, now: dt.datetime, expired_only: bool = False
) -> uuid.UUID | None:
    """offered -> declined or expired: the slot whose place is to pass on, or None when the offer
    was no longer open (accepted, declined or expired by someone else first)."""
    stmt = _change(entry_id, OFFERED, status=status, closed_at=now)
    if expired_only:
        stmt = stmt.where(WaitlistEntry.hold_expires_at <= now)
    return (await session.execute(stmt.returning(WaitlistEntry.slot_id))).scalar()


async def accept_offer(
    session: AsyncSession, entry_id: uuid.UUID, *, booking_id: uuid.UUID, now: dt.datetime
) -> bool:
    """offered -> booked while the hold lasts: of an accept and the hold's expiry, exactly one wins."""
    stmt = (
        _change(entry_id, OFFERED, status=WaitlistStatus.booked.value, booking_id=booking_id, closed_at=now)
        .where(WaitlistEntry.hold_expires_at > now)
        .returning(WaitlistEntry.id)
    )
    return (await session.execute(stmt)).first() is not None


async def leave(session: AsyncSession, entry_id: uuid.UUID, *, now: dt.datetime) -> bool:
    result = await session.execute(
        _change(entry_id, WAITING, status=WaitlistStatus.left.value, closed_at=now).returning(
            WaitlistEntry.id
        )
    )
    return result.first() is not None


# the sweeps' statements, built once: every worker runs them every `waitlist_sweep_seconds`
_NOW = bindparam("now", type_=UTCDateTime())
_OVERDUE_HOLDS = (
    select(WaitlistEntry.id, WaitlistEntry.session_id)
    .where(WaitlistEntry.status == OFFERED, WaitlistEntry.hold_expires_at <= _NOW)
    .order_by(WaitlistEntry.hold_expires_at, WaitlistEntry.id)
    .limit(bindparam("limit"))
)
_LINES_BESIDE_FREE_PLACES = (
    select(WaitlistEntry.session_id)
    .distinct()
    .join(Slot, Slot.session_id == WaitlistEntry.session_id)
    .join(ClinicSession, ClinicSession.id == WaitlistEntry.session_id)
    .where(
        WaitlistEntry.status == WAITING,
        Slot.booked < Slot.capacity,
        Slot.starts_at > _NOW,
        ClinicSession.status == "open",
        ClinicSession.release_at <= _NOW,
    )
    .limit(bindparam("limit"))
)
_OVER = select(ClinicSession.id).where(or_(ClinicSession.status != "open", ClinicSession.ends_at <= _NOW))
_CLOSE_LINES = (
    update(WaitlistEntry)
    .where(WaitlistEntry.status == WAITING, WaitlistEntry.session_id.in_(_OVER))
    .values(status=WaitlistStatus.closed.value, closed_at=_NOW)
    .returning(WaitlistEntry.id)
    .execution_options(synchronize_session=False)
)


async def overdue_holds(session: AsyncSession, now: dt.datetime, limit: int) -> list[Row]:
    """(id, session_id) of offers whose hold ran out (the partial index of open offers)."""
    return list((await session.execute(_OVERDUE_HOLDS, {"now": now, "limit": limit})).all())


async def lines_beside_free_places(session: AsyncSession, now: dt.datetime, limit: int) -> list[uuid.UUID]:
    """Open sessions where patients wait while a place is on open sale."""
    return list((await session.scalars(_LINES_BESIDE_FREE_PLACES, {"now": now, "limit": limit})).all())


async def close_lines(session: AsyncSession, now: dt.datetime) -> int:
    """waiting -> closed in sessions that were stopped or are over."""
    return len((await session.execute(_CLOSE_LINES, {"now": now})).all())


# --- no-shows and suspensions ------------------------------------------------------------------


async def overdue_bookings(
    session: AsyncSession, *, ended_before: dt.datetime, last_day: dt.date, limit: int
) -> list[uuid.UUID]:
    """Bookings still `booked` whose clinic session ended before `ended_before` (a desk may check a late
    patient in until the session ends; open sessions only: a stopped clinic is nobody's no-show).
    The status terms let both databases use the partial real-name index."""
    q = (
        select(Booking.id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(
            Booking.status.in_(ACTIVE_BOOKING),
            Booking.status == BookingStatus.booked.value,
            Booking.session_on <= last_day,
            ClinicSession.ends_at <= ended_before,
            ClinicSession.status == "open",
        )
        .order_by(Booking.session_on)
        .limit(limit)
    )
    return list((await session.scalars(q)).all())


async def serialize_no_show_marking(session: AsyncSession) -> None:
    """Until commit, no other transaction marks no-shows (PostgreSQL), so every count of a
    patient's no-shows sees the others' marks; SQLite has one writer already."""
    if _pg(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": NO_SHOW_LOCK})


async def mark_no_shows(session: AsyncSession, booking_ids: list[uuid.UUID]) -> list[Row]:
    """booked -> no_show; (id, patient_id, slot_id, session_id) of the bookings this call changed."""
    stmt = (
        update(Booking)
        .where(Booking.id.in_(booking_ids), Booking.status == BookingStatus.booked.value)
        .values(status=BookingStatus.no_show.value)
        .returning(Booking.id, Booking.patient_id, Booking.slot_id, Booking.session_id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).all())


async def no_shows_since(
    session: AsyncSession, patient_id: uuid.UUID, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """(how many, the latest appointment time) of a patient's no-shows with times after `since`."""
    row = (
        await session.execute(
            select(func.count(), func.max(Slot.starts_at))
            .select_from(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.patient_id == patient_id,
                Booking.status == BookingStatus.no_show.value,
                Slot.starts_at > since,
            )
        )
    ).one()
    return int(row[0]), row[1]


async def get_suspension(session: AsyncSession, patient_id: uuid.UUID) -> BookingSuspension | None:
    return await session.get(BookingSuspension, patient_id)


async def add_suspension(session: AsyncSession, suspension: BookingSuspension) -> None:
    session.add(suspension)
    await session.flush()
