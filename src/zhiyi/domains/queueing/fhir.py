"""A visit as a FHIR Encounter: one for each queue entry (a checked-in booking), arrived while waiting,
in progress once called, finished when the doctor ends it. The id is the entry's; it points at the
booking's Appointment. Written by the outbox handlers of handlers.py and by `project_all`."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.queueing import repository as repo
from zhiyi.domains.queueing.models import EntryStatus, QueueEntry
from zhiyi.domains.scheduling import service as scheduling
from zhiyi.domains.scheduling.schemas import SessionRead
from zhiyi.fhir import owned

OWNER = "queueing"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
QUEUE_NUMBER = "urn:zhiyi:queue-number"  # <clinic session id>/<number called out>
STATUS = {
    EntryStatus.waiting: "arrived",
    EntryStatus.called: "in-progress",
    EntryStatus.away: "onleave",  # sent for tests, coming back with the results
    EntryStatus.skipped: "arrived",  # missed the call: still here to be called again
    EntryStatus.done: "finished",
    EntryStatus.cancelled: "cancelled",
}
PAGE = 500


def instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def _period(start: dt.datetime, end: dt.datetime | None) -> dict:
    return {"start": instant(start), **({"end": instant(end)} if end else {})}


def encounter(e: QueueEntry, cs: SessionRead) -> dict:
    status = STATUS[EntryStatus(e.status)]
    history = []
    if e.called_at is not None:  # waited from arrival to the call, then with the doctor
        history.append({"status": "arrived", "period": _period(e.checked_in_at, e.called_at)})
    return {
        "resourceType": "Encounter",
        "id": str(e.id),
        "identifier": [{"system": QUEUE_NUMBER, "value": f"{e.session_id}/{e.number}"}],
        "status": status,
        **({"statusHistory": history} if history else {}),
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": {"reference": f"Patient/{e.patient_id}"},
        "participant": [
            {
                "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF"}]}],
                "individual": {"reference": f"Practitioner/{e.practitioner_id}"},
            }
        ],
        "appointment": [{"reference": f"Appointment/{e.booking_id}"}],
        "period": _period(e.checked_in_at, e.finished_at),
        **({"location": [{"location": {"reference": f"Location/{cs.room_id}"}}]} if cs.room_id else {}),
        "serviceProvider": {"reference": f"Organization/{cs.campus_id}"},
    }


async def _project(session: AsyncSession, entries: list[QueueEntry]) -> int:
    sessions: dict[uuid.UUID, SessionRead] = {}
    for e in entries:
        if e.session_id not in sessions:
            sessions[e.session_id] = await scheduling.get_session(session, session_id=e.session_id)
    resources = [encounter(e, sessions[e.session_id]) for e in entries]
    return await owned.put_many(session, owner=OWNER, resources=resources)


async def project_entry(session: AsyncSession, entry_id: uuid.UUID) -> None:
    await _project(session, await repo.entries_for_fhir(session, entry_id=entry_id))


async def project_booking(session: AsyncSession, booking_id: uuid.UUID) -> None:
    await _project(session, await repo.entries_for_fhir(session, booking_id=booking_id))


async def project_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await _project(session, await repo.entries_for_fhir(session, session_id=session_id))


async def project_all(session: AsyncSession) -> int:
    changed, after = 0, None
    while page := await repo.entries_for_fhir(session, after=after, limit=PAGE):
        changed += await _project(session, page)
        after = page[-1].id
    return changed
