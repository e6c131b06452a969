"""Clinic sessions and their slots: generated from the weekly timetable (出诊表), an extra clinic (加诊)
that never overlaps another of the doctor or the room, public holidays. Public through service.py."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, ids, outbox
from zhiyi.core.config import get_settings
from zhiyi.domains.scheduling import events
from zhiyi.domains.scheduling import repository as repo
from zhiyi.domains.scheduling.errors import DoctorBusy, RoomBusy
from zhiyi.domains.scheduling.models import ClinicSession

PERIODS = {
    "am": (dt.time(8, 0), dt.time(12, 0)),
    "pm": (dt.time(13, 30), dt.time(17, 0)),
    "evening": (dt.time(18, 0), dt.time(20, 30)),
}
DEFAULT_DAYS_AHEAD = 7
DEFAULT_RELEASE_TIME = dt.time(8, 0)


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_at(day: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, t, tzinfo=zone()).astimezone(dt.UTC)


async def generate_sessions(
    session: AsyncSession, *, first: dt.date, days: int, announce: bool = True
) -> int:
    """Create the sessions and slots of `days` days from the clinic timetables (idempotent:
    a practitioner's half-day that already has a session is left alone; on public holidays only
    the timetable's holiday clinics). Returns sessions made. `announce`: publish them (their FHIR
    Schedules and Slots follow); a seed that writes the repository itself says False."""
    last = first + dt.timedelta(days=days - 1)
    existing = await repo.existing_session_keys(session, first, last)
    policies = await repo.release_policies(session)
    off = await repo.holidays(session, first, last)
    sessions, slots = [], []
    for template in await repo.templates(session):
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            if (
                day.weekday() != template.weekday
                or (template.practitioner_id, day, template.period) in existing
            ):
                continue
            if day in off and not template.on_holidays:  # public holidays hold only the holiday clinics
                continue
            policy = policies.get(template.department_id)
            days_ahead = policy.days_ahead if policy else DEFAULT_DAYS_AHEAD
            release_time = policy.release_time if policy else DEFAULT_RELEASE_TIME
            start_t, end_t = PERIODS[template.period]
            starts_at, ends_at = local_at(day, start_t), local_at(day, end_t)
            session_id = ids.new_id()
            sessions.append(
                {
                    "id": session_id,
                    "practitioner_id": template.practitioner_id,
                    "department_id": template.department_id,
                    "campus_id": template.campus_id,
                    "room_id": template.room_id,
                    "session_on": day,
                    "period": template.period,
                    "clinic_type": template.clinic_type,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "release_at": local_at(day - dt.timedelta(days=days_ahead), release_time),
                    "status": "open",
                }
            )
            step = dt.timedelta(minutes=template.slot_minutes)
            at = starts_at
            while at + step <= ends_at:
                slots.append(
                    {
                        "id": ids.new_id(),
                        "session_id": session_id,
                        "starts_at": at,
                        "ends_at": at + step,
                        "capacity": template.slot_capacity,
                        "booked": 0,
                    }
                )
                at += step
    await repo.insert_sessions(session, sessions, slots)
    if sessions and announce:
        await outbox.publish(
            session, events.SESSIONS_OPENED, {"session_ids": [str(s["id"]) for s in sessions]}
        )
    return len(sessions)


async def clashing_sessions(
    session: AsyncSession,
    *,
    practitioner_id: uuid.UUID,
    room_id: uuid.UUID | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> list[ClinicSession]:
    """Open clinics of the doctor, or in the room, at a time overlapping the one given."""
    return await repo.clashing_sessions(
        session, practitioner_id=practitioner_id, room_id=room_id, starts_at=starts_at, ends_at=ends_at
    )


async def add_extra_session(
    session: AsyncSession,
    *,
    practitioner_id: uuid.UUID,
    department_id: uuid.UUID,
    campus_id: uuid.UUID,
    room_id: uuid.UUID | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    slot_minutes: int = 10,
    slot_capacity: int = 1,
    clinic_type: str = "general",
    release_at: dt.datetime | None = None,
) -> uuid.UUID:
    """An extra clinic (加诊) outside the weekly timetable, released at once unless told otherwise; never
    at the same time as another open clinic of the doctor, or in the same room."""
    for other in await clashing_sessions(
        session, practitioner_id=practitioner_id, room_id=room_id, starts_at=starts_at, ends_at=ends_at
    ):
        raise DoctorBusy() if other.practitioner_id == practitioner_id else RoomBusy()
    session_id, step = ids.new_id(), dt.timedelta(minutes=slot_minutes)
    day = starts_at.astimezone(zone()).date()
    slots, at = [], starts_at
    while at + step <= ends_at:
        slots.append(
            {
                "id": ids.new_id(),
                "session_id": session_id,
                "starts_at": at,
                "ends_at": at + step,
                "capacity": slot_capacity,
                "booked": 0,
            }
        )
        at += step
    await repo.insert_sessions(
        session,
        [
            {
                "id": session_id,
                "practitioner_id": practitioner_id,
                "department_id": department_id,
                "campus_id": campus_id,
                "room_id": room_id,
                "session_on": day,
                "period": "extra",
                "clinic_type": clinic_type,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "release_at": release_at or clock.now(),
                "status": "open",
            }
        ],
        slots,
    )
    await outbox.publish(session, events.SESSIONS_OPENED, {"session_ids": [str(session_id)]})
    return session_id


async def add_holidays(session: AsyncSession, *, holidays: list[tuple[dt.date, str, str]]) -> None:
    """Public holidays (day, Chinese name, English name); run before generating their sessions."""
    await repo.add_holidays(session, [{"day": d, "name_zh": zh, "name_en": en} for d, zh, en in holidays])
