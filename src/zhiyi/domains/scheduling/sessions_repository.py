"""Queries on clinic sessions and their slots, clinic templates, release policies and holidays; the
bookings' are in repository.py, which offers these too (callers use repo.<name>)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.scheduling.models import ClinicSession, ClinicTemplate, Holiday, ReleasePolicy, Slot


async def templates(session: AsyncSession) -> list[ClinicTemplate]:
    return list((await session.scalars(select(ClinicTemplate))).all())


async def release_policies(session: AsyncSession) -> dict[uuid.UUID, ReleasePolicy]:
    return {p.department_id: p for p in (await session.scalars(select(ReleasePolicy))).all()}


async def holidays(session: AsyncSession, first: dt.date, last: dt.date) -> dict[dt.date, Holiday]:
    return {
        h.day: h
        for h in (await session.scalars(select(Holiday).where(Holiday.day.between(first, last)))).all()
    }


async def add_holidays(session: AsyncSession, rows: list[dict]) -> None:
    if rows:
        await session.execute(insert(Holiday), rows)


async def existing_session_keys(session: AsyncSession, first: dt.date, last: dt.date) -> set[tuple]:
    rows = await session.execute(
        select(ClinicSession.practitioner_id, ClinicSession.session_on, ClinicSession.period).where(
            ClinicSession.session_on.between(first, last)
        )
    )
    return {tuple(r) for r in rows.all()}


async def insert_sessions(session: AsyncSession, sessions: list[dict], slots: list[dict]) -> None:
    """Bulk insert (executemany): thousands of slots per generation run."""
    if sessions:
        await session.execute(insert(ClinicSession), sessions)
    if slots:
        await session.execute(insert(Slot), slots)


async def find_sessions(
    session: AsyncSession,
    *,
    department_ids: list[uuid.UUID] | None,
    campus_id: uuid.UUID | None,
    practitioner_id: uuid.UUID | None,
    first: dt.date,
    last: dt.date,
    limit: int,
    after: dt.datetime | None = None,
) -> list[tuple[ClinicSession, int, int]]:
    """Open sessions with (capacity, booked) summed over their slots; with `after`, over the slots
    that start after it only, and only sessions that still have such a slot (what can still be booked)."""
    q = (
        select(ClinicSession, func.sum(Slot.capacity), func.sum(Slot.booked))
        .join(Slot, Slot.session_id == ClinicSession.id)
        .where(ClinicSession.session_on.between(first, last), ClinicSession.status == "open")
        .group_by(ClinicSession.id)
        .order_by(ClinicSession.starts_at)
        .limit(limit)
    )
    if after is not None:
        q = q.where(Slot.starts_at > after)
    if department_ids is not None:
        q = q.where(ClinicSession.department_id.in_(department_ids))
    if campus_id is not None:
        q = q.where(ClinicSession.campus_id == campus_id)
    if practitioner_id is not None:
        q = q.where(ClinicSession.practitioner_id == practitioner_id)
    return [(s, int(c or 0), int(b or 0)) for s, c, b in (await session.execute(q)).all()]


async def get_session(session: AsyncSession, session_id: uuid.UUID) -> ClinicSession | None:
    return await session.get(ClinicSession, session_id)


async def clashing_sessions(
    session: AsyncSession,
    *,
    practitioner_id: uuid.UUID,
    room_id: uuid.UUID | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> list[ClinicSession]:
    """Open sessions of the practitioner, or in the room, whose time overlaps [starts_at, ends_at)."""
    whose = ClinicSession.practitioner_id == practitioner_id
    if room_id is not None:
        whose = or_(whose, ClinicSession.room_id == room_id)
    q = (
        select(ClinicSession)
        .where(
            whose,
            ClinicSession.status == "open",
            ClinicSession.starts_at < ends_at,
            ClinicSession.ends_at > starts_at,
        )
        .order_by(ClinicSession.starts_at)
    )
    return list((await session.scalars(q)).all())


async def first_slot(session: AsyncSession, session_id: uuid.UUID) -> Slot | None:
    return await session.scalar(
        select(Slot).where(Slot.session_id == session_id).order_by(Slot.starts_at).limit(1)
    )


async def slots_of(session: AsyncSession, session_id: uuid.UUID) -> list[Slot]:
    return list(
        (
            await session.scalars(select(Slot).where(Slot.session_id == session_id).order_by(Slot.starts_at))
        ).all()
    )


async def departments_with_sessions(
    session: AsyncSession, *, first: dt.date, last: dt.date
) -> set[uuid.UUID]:
    q = (
        select(ClinicSession.department_id)
        .distinct()
        .where(ClinicSession.session_on.between(first, last), ClinicSession.status == "open")
    )
    return set((await session.scalars(q)).all())
