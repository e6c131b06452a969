"""The queries of one place at a time (overlap.py): the patient's lock and a booking of theirs at
the same time."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.scheduling import rules

# The lock every booking of one patient takes before it checks for a booking at the same time (overlap.py):
# its key is the server's hash of this text and the patient's id, so scheduling_book_own (migration 0017)
# takes the same lock with the same expression.
PATIENT_LOCK_PREFIX = "scheduling.patient:"
_LOCK_PATIENT = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


async def lock_patient(session: AsyncSession, patient_id: uuid.UUID) -> None:
    """Serialise the bookings of one patient until the transaction ends (PostgreSQL; a SQLite
    transaction that writes holds the database's write lock already)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(_LOCK_PATIENT, {"k": PATIENT_LOCK_PREFIX + str(patient_id)})


async def booking_at_same_time(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    day: dt.date,
) -> dt.datetime | None:
    """The start of an active booking of the patient whose time overlaps [starts_at, ends_at), if any
    (rules.booking_at_same_time, the rush's function's too)."""
    one_day = dt.timedelta(days=1)
    return await session.scalar(
        rules.booking_at_same_time(patient_id, starts_at, ends_at, day - one_day, day + one_day)
    )
