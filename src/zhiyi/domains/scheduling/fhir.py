"""Clinics and bookings as FHIR resources: a clinic session is a Schedule, its times Slots (free until
full), a booking an Appointment of the patient with the doctor. Ids are the rows' ids. Written by the
outbox handlers of handlers.py (every change to a session, slot or booking publishes an event) and by
`project_all`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.org import service as org
from zhiyi.domains.scheduling import fhir_repository as repo
from zhiyi.domains.scheduling.fhir_repository import SessionRows
from zhiyi.domains.scheduling.models import Booking, ClinicSession, SessionStatus, Slot
from zhiyi.fhir import owned

OWNER = "scheduling"
DEPARTMENT = "urn:zhiyi:department"  # org's codes (org/fhir.py)
CLINIC_TYPE = "urn:zhiyi:clinic-type"  # general | specialist | expert | special_needs
APPOINTMENT_REASON = "http://terminology.hl7.org/CodeSystem/v2-0276"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
APPOINTMENT_STATUS = {
    "booked": "booked",
    "checked_in": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
PAGE = 100

Departments = dict[uuid.UUID, tuple[str, str]]  # id -> (code, Chinese name)


def instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def ref(rtype: str, rid: uuid.UUID) -> dict:
    return {"reference": f"{rtype}/{rid}"}


async def departments(session: AsyncSession) -> Departments:
    return {d.id: (code, d.name_zh) for code, d in (await org.departments_by_code(session)).items()}


def _department(departments: Departments, department_id: uuid.UUID) -> dict:
    code, name = departments.get(department_id, ("", ""))
    return {"coding": [{"system": DEPARTMENT, "code": code, "display": name}]} if code else {"text": "?"}


def _place(cs: ClinicSession) -> dict:
    """The consulting room, or the campus when the clinic has none."""
    return ref("Location", cs.room_id or cs.campus_id)


def schedule(cs: ClinicSession, departments: Departments) -> dict:
    return {
        "resourceType": "Schedule",
        "id": str(cs.id),
        "active": cs.status == SessionStatus.open,
        "serviceType": [
            _department(departments, cs.department_id),
            {"coding": [{"system": CLINIC_TYPE, "code": cs.clinic_type}]},
        ],
        "actor": [
            ref("Practitioner", cs.practitioner_id),
            _place(cs),
            ref("HealthcareService", cs.department_id),
        ],
        "planningHorizon": {"start": instant(cs.starts_at), "end": instant(cs.ends_at)},
    }


def slot(s: Slot, cs: ClinicSession, departments: Departments) -> dict:
    if cs.status != SessionStatus.open:
        status = "busy-unavailable"
    else:  # a place held for someone on the waiting list counts as taken (it is not on sale)
        status = "busy" if s.booked >= s.capacity else "free"
    return {
        "resourceType": "Slot",
        "id": str(s.id),
        "serviceType": [_department(departments, cs.department_id)],
        "schedule": ref("Schedule", cs.id),
        "status": status,
        "start": instant(s.starts_at),
        "end": instant(s.ends_at),
    }


def appointment(b: Booking, s: Slot, cs: ClinicSession, departments: Departments) -> dict:
    taking_part = {"required": "required", "status": "accepted"}
    return {
        "resourceType": "Appointment",
        "id": str(b.id),
        "status": APPOINTMENT_STATUS[b.status],
        "serviceType": [_department(departments, cs.department_id)],
        "appointmentType": {"coding": [{"system": APPOINTMENT_REASON, "code": "ROUTINE"}]},
        "start": instant(s.starts_at),
        "end": instant(s.ends_at),
        "minutesDuration": max(1, round((s.ends_at - s.starts_at).total_seconds() / 60)),
        "slot": [ref("Slot", s.id)],
        "created": instant(b.created_at),
        "participant": [
            {"actor": ref("Patient", b.patient_id), **taking_part},
            {
                "type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF"}]}],
                "actor": ref("Practitioner", cs.practitioner_id),
                **taking_part,
            },
            {"actor": _place(cs), **taking_part},
            {"actor": ref("HealthcareService", cs.department_id), **taking_part},
        ],
    }


async def _put(session: AsyncSession, resources: list[dict]) -> int:
    return await owned.put_many(session, owner=OWNER, resources=resources)


def _session_resources(rows: SessionRows, departments: Departments) -> list[dict]:
    by_id = {s.id: s for s in rows.slots}
    return [
        schedule(rows.cs, departments),
        *(slot(s, rows.cs, departments) for s in rows.slots),
        *(appointment(b, by_id[b.slot_id], rows.cs, departments) for b in rows.bookings),
    ]


async def project_sessions(session: AsyncSession, session_ids: list[uuid.UUID]) -> None:
    """A session's Schedule, all its Slots and Appointments (a session stopped, moved or opened)."""
    known = await departments(session)
    rows = await repo.sessions_with_rows(session, ids=session_ids)
    await _put(session, [r for one in rows for r in _session_resources(one, known)])


async def project_booking(session: AsyncSession, booking_id: uuid.UUID) -> None:
    """A booking's Appointment and the Slot it took or gave back."""
    found = await repo.booking_rows(session, booking_id)
    if found is None:
        return
    b, s, cs = found
    known = await departments(session)
    # its Schedule too (usually unchanged: no new version)
    await _put(session, [schedule(cs, known), slot(s, cs, known), appointment(b, s, cs, known)])


async def project_slot(session: AsyncSession, slot_id: uuid.UUID) -> None:
    found = await repo.slot_rows(session, slot_id)
    if found is not None:
        s, cs = found
        known = await departments(session)
        await _put(session, [schedule(cs, known), slot(s, cs, known)])


async def project_all(session: AsyncSession) -> int:
    known = await departments(session)
    changed, after = 0, None
    while page := await repo.sessions_with_rows(session, after=after, limit=PAGE):
        changed += await _put(session, [r for rows in page for r in _session_resources(rows, known)])
        after = page[-1].cs.id
    return changed
