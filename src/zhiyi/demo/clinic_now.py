"""A clinic running now: whenever the demo is seeded, the demo doctor holds an extra clinic
(加诊) that starts a few minutes later, with patients already booked and checked in at the
desk, so the queue pages (doctor, phone, waiting-area screen) have something to show at any
hour. Made through the scheduling and queueing services, as a registration desk would."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock
from zhiyi.core.policy import Actor, Role
from zhiyi.domains import registry
from zhiyi.domains.org.models import Room
from zhiyi.domains.patients import service as patients
from zhiyi.domains.queueing import service as queueing
from zhiyi.domains.scheduling import changes
from zhiyi.domains.scheduling import service as scheduling

STARTS_IN_MINUTES = 10
HOURS = 3
CHECKED_IN = 3  # patients already waiting


async def seed_clinic_now(
    session: AsyncSession,
    *,
    practitioner_id: uuid.UUID,
    department_id: uuid.UUID,
    campus_id: uuid.UUID,
    desk_account_id: uuid.UUID,
    patient_ids: list[uuid.UUID],
) -> uuid.UUID:
    registry.install_policies()  # the desk's bookings are decided like any other (the CLI has no app)
    now = clock.now()
    start = (now + dt.timedelta(minutes=STARTS_IN_MINUTES)).replace(second=0, microsecond=0)
    room = await session.scalar(
        select(Room)
        .where(Room.department_id == department_id, Room.campus_id == campus_id)
        .order_by(Room.code)
        .limit(1)
    )
    desk = Actor(
        account_id=desk_account_id, roles=frozenset({Role.registrar}), campus_ids=frozenset({campus_id})
    )
    # one doctor, one room, one clinic at a time: the doctor's timetabled clinic at this hour (or another
    # in the room) is stopped, as the clinic office does for a 加诊 in its place (its patients rebooked)
    for other in await scheduling.clashing_sessions(
        session,
        practitioner_id=practitioner_id,
        room_id=room.id if room else None,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=HOURS),
    ):
        await changes.stop_session(session, actor=desk, session_id=other.id)
    session_id = await scheduling.add_extra_session(
        session,
        practitioner_id=practitioner_id,
        department_id=department_id,
        campus_id=campus_id,
        room_id=room.id if room else None,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=HOURS),
        release_at=now - dt.timedelta(hours=1),
    )
    for patient_id in patient_ids[:CHECKED_IN]:
        await patients.mark_verified(session, patient_id=patient_id)
        await scheduling.book_slot(
            session, actor=desk, patient_id=patient_id, session_id=session_id, channel="desk"
        )
        await queueing.check_in_by_token(
            session, actor=desk, token=patients.issue_onecode(patient_id=patient_id)
        )
    return session_id
