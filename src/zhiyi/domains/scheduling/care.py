"""Whether a patient is in a clinician's care, as bookings tell it (registered with the patients policy
by domains/registry.py: patients, a foundational domain, never imports scheduling).

A doctor: the patient has a booking (not cancelled) in a clinic session of theirs (any campus), or of
their department at one of their campuses; a nurse: in a clinic session at one of their campuses; (any
campus, for group-wide staff); with the session's day between `since` and `until`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.policy import Actor, Role
from zhiyi.domains.org import service as org
from zhiyi.domains.scheduling import repository as repo


async def in_care(
    session: AsyncSession, *, actor: Actor, patient_id: uuid.UUID, since: dt.date, until: dt.date
) -> bool:
    practitioner_id = department_id = None
    if actor.has(Role.doctor) and actor.practitioner_id is not None:
        practitioner_id = actor.practitioner_id
        found = await org.practitioners_by_ids(session, ids={practitioner_id})
        department_id = found[practitioner_id].department_id if practitioner_id in found else None
    campus_ids = None if actor.group_wide else actor.campus_ids
    if not actor.has(Role.nurse) and practitioner_id is None:
        return False
    return await repo.booked_in_care(
        session,
        patient_id=patient_id,
        since=since,
        until=until,
        practitioner_id=practitioner_id,
        department_id=department_id,
        campus_ids=campus_ids,
        by_campus=actor.has(Role.nurse),
    )
