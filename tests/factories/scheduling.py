"""Factories for the scheduling domain: a released session with slots, a booking made earlier, a patient
waiting in line, an online-booking suspension."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from zhiyi.core import clock, ids
from zhiyi.core.config import get_settings
from zhiyi.domains.scheduling.models import Booking, BookingSuspension, ClinicSession, Slot, WaitlistEntry


async def session_with_slots(
    session,
    *,
    practitioner,
    department,
    campus,
    starts_in: dt.timedelta = dt.timedelta(days=1),
    slots: int = 3,
    capacity: int = 1,
    released: bool = True,
    status: str = "open",
    room=None,
):
    now = clock.now()
    start = (now + starts_in).replace(microsecond=0)
    local = start.astimezone(ZoneInfo(get_settings().timezone))
    day = local.date()  # the hospital's local day
    # the half-day as the hospital reads it (changes._period): a factory session at 13:00 is an afternoon
    # clinic
    period = "am" if local.time() < dt.time(12, 0) else "pm" if local.time() < dt.time(18, 0) else "evening"
    cs = ClinicSession(
        id=ids.new_id(),
        practitioner_id=practitioner.id,
        department_id=department.id,
        campus_id=campus.id,
        room_id=room.id if room else None,
        session_on=day,
        period=period,
        clinic_type="general",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=10 * slots),
        release_at=now - dt.timedelta(hours=1) if released else now + dt.timedelta(days=1),
        status=status,
    )
    session.add(cs)
    await session.flush()
    made = [
        Slot(
            id=ids.new_id(),
            session_id=cs.id,
            starts_at=start + dt.timedelta(minutes=10 * i),
            ends_at=start + dt.timedelta(minutes=10 * (i + 1)),
            capacity=capacity,
            booked=0,
        )
        for i in range(slots)
    ]
    session.add_all(made)
    await session.flush()
    return cs, made


async def booking(session, *, cs, slot, patient, account, status: str = "completed") -> Booking:
    """A booking as history left it (a visit last week, say), written directly: book_slot refuses the past."""
    b = Booking(
        id=ids.new_id(),
        slot_id=slot.id,
        session_id=cs.id,
        patient_id=patient.id,
        department_id=cs.department_id,
        session_on=cs.session_on,
        status=status,
        channel="online",
        booked_by_account_id=account.id,
        created_at=clock.now(),
    )
    slot.booked += 1
    session.add(b)
    await session.flush()
    return b


async def waitlist_entry(
    session, *, cs, patient, account, joined_at: dt.datetime | None = None, channel: str = "online"
) -> WaitlistEntry:
    """A patient waiting in line for a full session (as join_waitlist leaves it)."""
    e = WaitlistEntry(
        id=ids.new_id(),
        session_id=cs.id,
        patient_id=patient.id,
        department_id=cs.department_id,
        session_on=cs.session_on,
        status="waiting",
        channel=channel,
        joined_by_account_id=account.id,
        created_at=joined_at or clock.now(),
    )
    session.add(e)
    await session.flush()
    return e


async def suspension(session, *, patient, ends_at: dt.datetime, no_shows: int = 3) -> BookingSuspension:
    """Online booking suspended after no-shows (as mark_no_shows writes it)."""
    s = BookingSuspension(
        patient_id=patient.id,
        starts_at=clock.now(),
        ends_at=ends_at,
        no_shows=no_shows,
        updated_at=clock.now(),
    )
    session.add(s)
    await session.flush()
    return s
