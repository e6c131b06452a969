"""Every query on the pre-consultation domain's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.preconsult.models import PreconsultResponse, ResponseStatus


async def get(session: AsyncSession, response_id: uuid.UUID) -> PreconsultResponse | None:
    return await session.get(PreconsultResponse, response_id)


async def draft(session: AsyncSession, draft_key: str) -> PreconsultResponse | None:
    return await session.scalar(select(PreconsultResponse).where(PreconsultResponse.draft_key == draft_key))


async def add(session: AsyncSession, row: PreconsultResponse) -> PreconsultResponse:
    session.add(row)
    await session.flush()
    return row


async def latest_for_booking(session: AsyncSession, booking_id: uuid.UUID) -> PreconsultResponse | None:
    """The booking's latest form, in progress or submitted (what the patient comes back to)."""
    q = (
        select(PreconsultResponse)
        .where(PreconsultResponse.booking_id == booking_id)
        .order_by(PreconsultResponse.updated_at.desc(), PreconsultResponse.id.desc())
        .limit(1)
    )
    return await session.scalar(q)


async def completed_for(
    session: AsyncSession,
    *,
    patient_ids: set[uuid.UUID],
    department_codes: set[str],
    booking_ids: set[uuid.UUID],
    since: dt.datetime,
) -> list[PreconsultResponse]:
    """Submitted forms of these patients since `since`, for these departments or linked to these
    bookings, newest first."""
    if not patient_ids:
        return []
    q = (
        select(PreconsultResponse)
        .where(
            PreconsultResponse.patient_id.in_(patient_ids),
            PreconsultResponse.status == ResponseStatus.completed,
            PreconsultResponse.completed_at >= since,
            or_(
                PreconsultResponse.department_code.in_(department_codes or {""}),
                PreconsultResponse.booking_id.in_(booking_ids or {uuid.UUID(int=0)}),
            ),
        )
        .order_by(PreconsultResponse.completed_at.desc(), PreconsultResponse.id.desc())
    )
    return list((await session.scalars(q)).all())


async def submitted_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[PreconsultResponse]:
    """Every submitted form, a page at a time in id order (their FHIR projection)."""
    q = (
        select(PreconsultResponse)
        .where(PreconsultResponse.status == ResponseStatus.completed)
        .order_by(PreconsultResponse.id)
        .limit(limit)
    )
    if after is not None:
        q = q.where(PreconsultResponse.id > after)
    return list((await session.scalars(q)).all())
