"""One patient, one place at a time: a booking may not overlap another active booking of the same
patient (any department, any campus). The real-name rule (one booking per department and day) is a
unique index; this one compares times, so every path that books checks it under a per-patient lock
taken after its place (the order every path takes locks in: session and slots first, then the
patient), so two concurrent bookings of one patient see each other:
service.book_slot (online, proxies, desks), waitlist.accept_offer, changes._rebook, and
scheduling_book_own (migration 0017), which answers 'usual' so that book_slot explains the refusal.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.scheduling import overlap_repository as repo
from zhiyi.domains.scheduling.errors import BookingOverlaps
from zhiyi.domains.scheduling.holds import local


async def same_time(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    day: dt.date,
) -> dt.datetime | None:
    """Lock the patient's bookings for this transaction and return the start of an active booking of
    theirs that overlaps the time (None: the time is free for them)."""
    await repo.lock_patient(session, patient_id)
    return await repo.booking_at_same_time(
        session, patient_id=patient_id, starts_at=starts_at, ends_at=ends_at, day=day
    )


async def refuse_overlap(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    day: dt.date,
) -> None:
    other = await same_time(session, patient_id=patient_id, starts_at=starts_at, ends_at=ends_at, day=day)
    if other is not None:
        raise BookingOverlaps(params={"when": local(other)})
