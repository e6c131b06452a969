"""Every query on the triage domain's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.triage.models import HandoverMessage, HandoverStatus, TriageAssessment, TriageHandover


async def add(session: AsyncSession, row: TriageAssessment | TriageHandover | HandoverMessage):
    session.add(row)
    await session.flush()
    return row


async def get_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> TriageAssessment | None:
    return await session.get(TriageAssessment, assessment_id)


async def latest_for_patient(
    session: AsyncSession, *, patient_id: uuid.UUID, since: dt.datetime
) -> list[TriageAssessment]:
    q = (
        select(TriageAssessment)
        .where(TriageAssessment.patient_id == patient_id, TriageAssessment.created_at >= since)
        .order_by(TriageAssessment.created_at.desc())
        .limit(20)
    )
    return list((await session.scalars(q)).all())


async def emergencies_to_review(session: AsyncSession, *, limit: int = 100) -> list[TriageAssessment]:
    q = (
        select(TriageAssessment)
        .where(TriageAssessment.outcome == "emergency", TriageAssessment.reviewed_at.is_(None))
        .order_by(TriageAssessment.created_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(q)).all())


async def mark_reviewed(
    session: AsyncSession, assessment_id: uuid.UUID, *, by: uuid.UUID, at: dt.datetime
) -> bool:
    result = await session.execute(
        update(TriageAssessment)
        .where(TriageAssessment.id == assessment_id, TriageAssessment.reviewed_at.is_(None))
        .values(reviewed_at=at, reviewed_by_account_id=by)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def outcomes(session: AsyncSession) -> list[TriageAssessment]:
    """Assessments with a known right department: reassigned by a doctor, or said to have helped."""
    q = (
        select(TriageAssessment)
        .where(or_(TriageAssessment.reassigned_code.is_not(None), TriageAssessment.helped.is_(True)))
        .order_by(TriageAssessment.created_at)
    )
    return list((await session.scalars(q)).all())


async def get_handover(
    session: AsyncSession, handover_id: uuid.UUID, *, lock: bool = False
) -> TriageHandover | None:
    q = select(TriageHandover).where(TriageHandover.id == handover_id)
    if lock:
        q = q.with_for_update()
    return await session.scalar(q)


async def add_open_handover(session: AsyncSession, row: TriageHandover) -> bool:
    """Inserts an open request unless the account already has one (the partial unique index decides
    between two at once; the savepoint keeps the transaction usable after a refusal)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def open_handover_of(session: AsyncSession, *, account_id: uuid.UUID) -> TriageHandover | None:
    q = (
        select(TriageHandover)
        .where(TriageHandover.account_id == account_id, TriageHandover.status != HandoverStatus.closed)
        .order_by(TriageHandover.created_at.desc())
        .limit(1)
    )
    return await session.scalar(q)


async def handovers(
    session: AsyncSession, *, statuses: tuple[str, ...], limit: int = 100
) -> list[TriageHandover]:
    q = (
        select(TriageHandover)
        .where(TriageHandover.status.in_(statuses))
        .order_by(TriageHandover.created_at)
        .limit(limit)
    )
    return list((await session.scalars(q)).all())


async def take_handover(
    session: AsyncSession, handover_id: uuid.UUID, *, agent: uuid.UUID, at: dt.datetime
) -> bool:
    """One conditional UPDATE: of two agents taking the same request, one gets it."""
    result = await session.execute(
        update(TriageHandover)
        .where(TriageHandover.id == handover_id, TriageHandover.status == HandoverStatus.waiting)
        .values(status=HandoverStatus.taken, agent_account_id=agent, taken_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def messages(session: AsyncSession, handover_id: uuid.UUID) -> list[HandoverMessage]:
    q = (
        select(HandoverMessage)
        .where(HandoverMessage.handover_id == handover_id)
        .order_by(HandoverMessage.at, HandoverMessage.id)
    )
    return list((await session.scalars(q)).all())


async def handover_version(session: AsyncSession, handover_id: uuid.UUID) -> int:
    """What a chat page shows changes with this number: its messages counted, and its status."""
    status = await session.scalar(select(TriageHandover.status).where(TriageHandover.id == handover_id))
    count = await session.scalar(
        select(func.count()).select_from(HandoverMessage).where(HandoverMessage.handover_id == handover_id)
    )
    return int(count or 0) * 4 + ("waiting", "taken", "closed").index(status) if status else -1


async def assessment_now(session: AsyncSession, assessment_id: uuid.UUID) -> TriageAssessment | None:
    """As the database has it now (an UPDATE earlier in the same transaction included)."""
    q = select(TriageAssessment).where(TriageAssessment.id == assessment_id)
    return await session.scalar(q.execution_options(populate_existing=True))


async def patients_assessments_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[TriageAssessment]:
    """Every assessment made for a patient, a page at a time in id order (their FHIR projection)."""
    q = (
        select(TriageAssessment)
        .where(TriageAssessment.patient_id.is_not(None))
        .order_by(TriageAssessment.id)
        .limit(limit)
    )
    if after is not None:
        q = q.where(TriageAssessment.id > after)
    return list((await session.scalars(q)).all())
