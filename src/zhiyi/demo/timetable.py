"""The demo group's weekly clinic timetable (出诊表) and release policies; the scheduling
domain turns them into dated sessions and slots."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.org.models import Department, Practitioner, PractitionerCampus, Room
from zhiyi.domains.scheduling import service as scheduling
from zhiyi.domains.scheduling.models import ClinicTemplate, ReleasePolicy

CLINIC_BY_TITLE = {
    "resident": "general",
    "attending": "general",
    "associate_chief": "specialist",
    "chief": "expert",
}
SLOT_BY_CLINIC = {"general": (10, 2), "specialist": (10, 1), "expert": (15, 1)}  # minutes, places per slot
NOT_BOOKABLE = ("EM",)  # the emergency department takes no appointments
FIXED_HOLIDAYS = [
    (1, 1, "元旦", "New Year's Day"),
    (5, 1, "劳动节", "Labour Day"),
    (10, 1, "国庆节", "National Day"),
    (10, 2, "国庆节", "National Day"),
    (10, 3, "国庆节", "National Day"),
]
HOLIDAY_CLINIC_EVERY = 7  # one template in seven also runs on public holidays
HALF_DAYS = [(d, p) for d in range(6) for p in ("am", "pm")] + [(1, "evening"), (3, "evening")]


async def seed_timetable(
    session: AsyncSession, rng: random.Random, *, first: dt.date, days: int
) -> tuple[int, int]:
    """Give every doctor 2-4 half-days a week at one of their campuses; returns (templates, sessions)."""
    departments = {d.id: d for d in (await session.scalars(select(Department))).all()}
    bookable = {i for i, d in departments.items() if d.is_clinical and not d.code.startswith(NOT_BOOKABLE)}
    rooms: dict[tuple, list[Room]] = {}
    for room in (await session.scalars(select(Room).order_by(Room.code))).all():
        rooms.setdefault((room.department_id, room.campus_id), []).append(room)
    campuses: dict = {}
    for link in (
        await session.execute(select(PractitionerCampus).order_by(PractitionerCampus.campus_id))
    ).scalars():
        campuses.setdefault(link.practitioner_id, []).append(link.campus_id)
    doctors = (
        await session.scalars(
            select(Practitioner).where(Practitioner.profession == "doctor").order_by(Practitioner.code)
        )
    ).all()
    templates, taken = [], set()
    for doc in doctors:
        if doc.department_id not in bookable:
            continue
        clinic = CLINIC_BY_TITLE.get(doc.title, "general")
        minutes, places = SLOT_BY_CLINIC[clinic]
        for weekday, period in rng.sample(HALF_DAYS, rng.randint(2, 4)):
            campus = rng.choice(campuses.get(doc.id) or [None])
            if campus is None:
                continue
            # a room holds one clinic a half-day: a doctor with no free room that half-day sits in none named
            free = [
                r for r in rooms.get((doc.department_id, campus), []) if (r.id, weekday, period) not in taken
            ]
            room = rng.choice(free) if free else None
            if room is not None:
                taken.add((room.id, weekday, period))
            templates.append(
                ClinicTemplate(
                    practitioner_id=doc.id,
                    department_id=doc.department_id,
                    campus_id=campus,
                    room_id=room.id if room else None,
                    weekday=weekday,
                    period=period,
                    clinic_type=clinic,
                    slot_minutes=minutes,
                    slot_capacity=places,
                )
            )
    # fixed-date public holidays of this year and the next (the movable ones follow the State
    # Council's yearly notice, which a hospital enters itself); a few doctors hold holiday clinics
    years = (first.year, first.year + 1)
    await scheduling.add_holidays(
        session, holidays=[(dt.date(y, m, d), zh, en) for y in years for m, d, zh, en in FIXED_HOLIDAYS]
    )
    for t in templates[::HOLIDAY_CLINIC_EVERY]:
        t.on_holidays = True
    policies = [
        ReleasePolicy(department_id=i, days_ahead=7, release_time=dt.time(8, 0), cancel_cutoff_hours=2)
        for i in sorted(bookable)
    ]
    session.add_all(templates + policies)
    await session.flush()
    # not announced: the seed writes the FHIR repository itself when asked (seed(fhir=True)), and a server
    # starting on the seeded database would otherwise re-read every slot of the demo in its outbox worker
    made = await scheduling.generate_sessions(session, first=first, days=days, announce=False)
    return len(templates), made
