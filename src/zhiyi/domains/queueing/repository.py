"""Every query on the queueing domain's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.queueing.models import EntryStatus, QueueBoard, QueueEntry

RECENT_CONSULTATIONS = 10


async def bump_board(
    session: AsyncSession, session_id: uuid.UUID, *, take_number: bool = False
) -> tuple[int, int]:
    """Bump the session board's version (and hand out the next number): the row lock this
    takes on PostgreSQL serialises every change to one queue. Returns (version, last_number)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(QueueBoard)
        .values(session_id=session_id, last_number=0, version=0)
        .on_conflict_do_nothing(index_elements=["session_id"])
    )
    values = {"version": QueueBoard.version + 1}
    if take_number:
        values["last_number"] = QueueBoard.last_number + 1
    row = (
        await session.execute(
            update(QueueBoard)
            .where(QueueBoard.session_id == session_id)
            .values(**values)
            .returning(QueueBoard.version, QueueBoard.last_number)
        )
    ).one()
    return row[0], row[1]


async def board_version(session: AsyncSession, session_id: uuid.UUID) -> int:
    return int(
        await session.scalar(select(QueueBoard.version).where(QueueBoard.session_id == session_id)) or 0
    )


async def add_entry(session: AsyncSession, entry: QueueEntry) -> QueueEntry:
    session.add(entry)
    await session.flush()
    return entry


async def entry_of_booking(session: AsyncSession, booking_id: uuid.UUID) -> QueueEntry | None:
    return await session.scalar(select(QueueEntry).where(QueueEntry.booking_id == booking_id))


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> QueueEntry | None:
    return await session.get(QueueEntry, entry_id)


async def entries_of_session(session: AsyncSession, session_id: uuid.UUID) -> list[QueueEntry]:
    """Every entry of one clinic session, in queue order (priority first, then appointment time)."""
    q = (
        select(QueueEntry)
        .where(QueueEntry.session_id == session_id)
        .order_by(QueueEntry.priority.desc(), QueueEntry.order_at, QueueEntry.checked_in_at, QueueEntry.id)
    )
    return list((await session.scalars(q)).all())


async def recent_durations(
    session: AsyncSession, practitioner_id: uuid.UUID
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(called_at, finished_at) of the practitioner's latest finished consultations."""
    q = (
        select(QueueEntry.called_at, QueueEntry.finished_at)
        .where(
            QueueEntry.practitioner_id == practitioner_id,
            QueueEntry.status == EntryStatus.done,
            QueueEntry.called_at.is_not(None),
            QueueEntry.finished_at.is_not(None),
        )
        .order_by(QueueEntry.finished_at.desc())
        .limit(RECENT_CONSULTATIONS)
    )
    return [(a, b) for a, b in (await session.execute(q)).all()]


async def cancel_entries(
    session: AsyncSession, *, booking_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None
) -> int:
    """Entries of a cancelled booking, or of every booking of a stopped clinic, leave the queue."""
    q = update(QueueEntry).where(QueueEntry.status.not_in((EntryStatus.done, EntryStatus.cancelled)))
    q = (
        q.where(QueueEntry.booking_id == booking_id)
        if booking_id is not None
        else q.where(QueueEntry.session_id == session_id)
    )
    done = await session.execute(
        q.values(status=EntryStatus.cancelled)
        .returning(QueueEntry.id)
        .execution_options(synchronize_session=False)
    )
    return len(done.all())


async def entries_for_fhir(
    session: AsyncSession,
    *,
    entry_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[QueueEntry]:
    """Entries as the database has them now (an UPDATE earlier in the same transaction included), by id,
    booking or session, or every entry a page at a time in id order."""
    q = select(QueueEntry).order_by(QueueEntry.id).execution_options(populate_existing=True)
    if entry_id is not None:
        q = q.where(QueueEntry.id == entry_id)
    if booking_id is not None:
        q = q.where(QueueEntry.booking_id == booking_id)
    if session_id is not None:
        q = q.where(QueueEntry.session_id == session_id)
    if after is not None:
        q = q.where(QueueEntry.id > after)
    if limit is not None:
        q = q.limit(limit)
    return list((await session.scalars(q)).all())
