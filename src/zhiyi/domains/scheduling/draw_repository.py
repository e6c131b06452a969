"""Queries of the release draw (scheduling/draw.py)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.scheduling.models import ClinicSession, DrawEntry, Slot


async def release_at_of(
    session: AsyncSession, *, slot_id: uuid.UUID | None, session_id: uuid.UUID | None
) -> dt.datetime | None:
    if slot_id is not None:
        q = (
            select(ClinicSession.release_at)
            .join(Slot, Slot.session_id == ClinicSession.id)
            .where(Slot.id == slot_id)
        )
    else:
        q = select(ClinicSession.release_at).where(ClinicSession.id == session_id)
    return await session.scalar(q)


async def enter(
    session: AsyncSession,
    *,
    release_at: dt.datetime,
    patient_id: uuid.UUID,
    ticket: float,
    key: str,
    now: dt.datetime,
) -> str | None:
    """Enter the patient once. Returns None when entered now, else the key of their earlier entry."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    done = await session.execute(
        insert(DrawEntry)
        .values(
            release_at=release_at, patient_id=patient_id, ticket=ticket, idempotency_key=key, created_at=now
        )
        .on_conflict_do_nothing(index_elements=["release_at", "patient_id"])
        .returning(DrawEntry.patient_id)
    )
    if done.first() is not None:
        return None
    return await session.scalar(
        select(DrawEntry.idempotency_key).where(
            DrawEntry.release_at == release_at, DrawEntry.patient_id == patient_id
        )
    )


async def position(
    session: AsyncSession, *, release_at: dt.datetime, patient_id: uuid.UUID
) -> tuple[int, int] | None:
    """(place in the draw's order, entries in all), or None when the patient is not in it."""
    mine = await session.scalar(
        select(DrawEntry.ticket).where(DrawEntry.release_at == release_at, DrawEntry.patient_id == patient_id)
    )
    if mine is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(DrawEntry)
        .where(DrawEntry.release_at == release_at, DrawEntry.ticket < mine)
    )
    total = await session.scalar(
        select(func.count()).select_from(DrawEntry).where(DrawEntry.release_at == release_at)
    )
    return int(ahead or 0) + 1, int(total or 0)
