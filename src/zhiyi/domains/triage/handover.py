"""Hand-overs to a person at the service desk: a patient asks for one (with their triage answer or
a few words), agents (registrars and nurses of the patient's campus) take, answer and close the
chat with a department advised; both pages follow the chat live (web.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, ids
from zhiyi.core.errors import FieldError, Forbidden, ValidationFailed
from zhiyi.core.policy import Actor, Resource
from zhiyi.domains.org import service as org
from zhiyi.domains.triage import knowledge, service
from zhiyi.domains.triage import repository as repo
from zhiyi.domains.triage.errors import HandoverClosed, HandoverNotFound, HandoverNotTaken, HandoverTaken
from zhiyi.domains.triage.models import HandoverMessage, HandoverStatus, TriageHandover
from zhiyi.domains.triage.policy import AGENT_ROLES, HANDOVER
from zhiyi.domains.triage.schemas import HandoverRead, MessageRead


async def request_handover(
    session: AsyncSession, *, actor: Actor, assessment_id: uuid.UUID | None, text: str
) -> HandoverRead:
    """A patient asks for a person: one open request per account (asking again returns it)."""
    open_one = await repo.open_handover_of(session, account_id=actor.account_id)
    if open_one is not None:
        return await _handover_read(session, open_one)
    service.check_text("text", text)
    assessment = await service.own_assessment(session, actor, assessment_id) if assessment_id else None
    if assessment is None and not text.strip():
        raise ValidationFailed(errors=[FieldError("text", service.MESSAGES["empty"], "missing")])
    row = TriageHandover(
        id=ids.new_id(),
        assessment_id=assessment.id if assessment else None,
        account_id=actor.account_id,
        patient_id=assessment.patient_id if assessment else actor.patient_id,
        status=HandoverStatus.waiting,
        created_at=clock.now(),
    )
    if not await repo.add_open_handover(session, row):  # another request of this account won the race
        return await _handover_read(
            session, await repo.open_handover_of(session, account_id=actor.account_id)
        )
    if text.strip():
        await repo.add(
            session,
            HandoverMessage(
                id=ids.new_id(),
                handover_id=row.id,
                sender="patient",
                account_id=actor.account_id,
                text=text.strip(),
                at=clock.now(),
            ),
        )
    return await _handover_read(session, row)


async def my_handover(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverRead:
    row = await repo.get_handover(session, handover_id)
    if row is None or row.account_id != actor.account_id:
        raise HandoverNotFound()
    # the chat holds what the patient told the desk: a read of their data, audited as any other
    audit.record(session, actor, "read", HANDOVER, row.id, patient_id=row.patient_id)
    return await _handover_read(session, row)


async def _as_agent(
    session: AsyncSession, actor: Actor, handover_id: uuid.UUID, action: str, *, lock: bool = False
) -> TriageHandover:
    if not any(actor.has(r) for r in AGENT_ROLES):
        raise Forbidden()
    row = await repo.get_handover(session, handover_id, lock=lock)
    if row is None:
        raise HandoverNotFound()
    attrs = {"agent": row.agent_account_id, "campus_id": await service.campus_of(session, row.patient_id)}
    await audit.guard(session, actor, action, Resource(HANDOVER, row.id, attrs), patient_id=row.patient_id)
    return row


async def handover_queue(session: AsyncSession, *, actor: Actor) -> list[HandoverRead]:
    """Waiting requests, and those this agent has taken."""
    if not any(actor.has(r) for r in AGENT_ROLES):
        raise Forbidden()
    rows = await repo.handovers(session, statuses=(HandoverStatus.waiting, HandoverStatus.taken))
    rows = [r for r in rows if r.status == HandoverStatus.waiting or r.agent_account_id == actor.account_id]
    rows = await service.on_campuses(session, actor, rows)  # each desk answers the patients of its campuses
    out = []
    for r in rows:
        audit.record(session, actor, "triage.handover.list", HANDOVER, r.id, patient_id=r.patient_id)
        out.append(await _handover_read(session, r, messages=False))
    return out


async def handover_version(session: AsyncSession, *, handover_id: uuid.UUID) -> int:
    """Changes whenever a chat's page would (a message, a status): live pages follow it."""
    return await repo.handover_version(session, handover_id)


async def agent_view(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverRead:
    return await _handover_read(session, await _as_agent(session, actor, handover_id, "triage.handover.read"))


async def take_handover(session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID) -> HandoverRead:
    row = await _as_agent(session, actor, handover_id, "triage.handover.take")
    if row.agent_account_id == actor.account_id and row.status == HandoverStatus.taken:
        return await _handover_read(session, row)
    if not await repo.take_handover(session, row.id, agent=actor.account_id, at=clock.now()):
        raise HandoverTaken()
    await session.refresh(row)
    return await _handover_read(session, row)


async def send_message(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, text: str
) -> HandoverRead:
    service.check_text("text", text)
    row = await repo.get_handover(session, handover_id)
    if row is not None and row.account_id == actor.account_id:
        sender = "patient"
    else:
        row = await _as_agent(session, actor, handover_id, "triage.handover.write")
        if row.status == HandoverStatus.waiting:
            raise HandoverNotTaken()
        if row.agent_account_id != actor.account_id:
            raise HandoverTaken()
        sender = "agent"
    if row.status == HandoverStatus.closed:
        raise HandoverClosed()
    await repo.add(
        session,
        HandoverMessage(
            id=ids.new_id(),
            handover_id=row.id,
            sender=sender,
            account_id=actor.account_id,
            text=text.strip(),
            at=clock.now(),
        ),
    )
    return await _handover_read(session, row)


async def close_handover(
    session: AsyncSession, *, actor: Actor, handover_id: uuid.UUID, department_code: str | None
) -> HandoverRead:
    row = await _as_agent(session, actor, handover_id, "triage.handover.close", lock=True)
    if row.status == HandoverStatus.waiting:
        raise HandoverNotTaken()
    if row.agent_account_id != actor.account_id:
        raise HandoverTaken()
    if row.status == HandoverStatus.closed:
        raise HandoverClosed()  # a second close (a double submit) must not rewrite the advice given
    if department_code is not None and department_code not in await org.departments_by_code(session):
        raise ValidationFailed(errors=[FieldError("department_code", "No such department.", "invalid")])
    row.status, row.closed_at, row.department_code = HandoverStatus.closed, clock.now(), department_code
    if department_code and row.assessment_id:
        assessment = await repo.get_assessment(session, row.assessment_id)
        if assessment is not None and assessment.reassigned_code is None:
            assessment.reassigned_code, assessment.reassigned_at = department_code, clock.now()
            assessment.reassigned_by_account_id = actor.account_id
    return await _handover_read(session, row)


async def _department_id(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    """The hospital's department of a catalogue code (where the patient can book), if it has one."""
    if not code:
        return None
    dept = (await org.departments_by_code(session)).get(code)
    return dept.id if dept else None


async def _handover_read(
    session: AsyncSession, row: TriageHandover, *, messages: bool = True
) -> HandoverRead:
    kn = knowledge.knowledge()
    assessment = await repo.get_assessment(session, row.assessment_id) if row.assessment_id else None
    lang = assessment.language if assessment else "zh"
    msgs = await repo.messages(session, row.id) if messages else []
    return HandoverRead(
        id=row.id,
        status=row.status,
        assessment_id=row.assessment_id,
        complaint=assessment.text if assessment else (msgs[0].text if msgs else ""),
        suggestions=[
            kn.catalogue.name(s["code"], lang)
            for s in (assessment.suggestions if assessment else [])
            if s["code"] in kn.catalogue.names
        ],
        department_code=row.department_code,
        department_name=kn.catalogue.name(row.department_code, lang)
        if row.department_code in kn.catalogue.names
        else None,
        department_id=await _department_id(session, row.department_code),
        created_at=row.created_at,
        messages=[MessageRead(sender=m.sender, text=m.text, at=m.at) for m in msgs],
    )
