"""Public holidays: the timetable holds only its holiday clinics; patients can look for weekend
and holiday clinics."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.factories import org as orgf
from zhiyi.core import clock
from zhiyi.domains.scheduling import service
from zhiyi.domains.scheduling.models import ClinicSession, ClinicTemplate, ReleasePolicy


async def test_holidays_hold_only_holiday_clinics_and_the_weekend_search_finds_them(client, session):
    campus = await orgf.campus(session, code="MAIN", is_main=True)
    dept = await orgf.department(session, code="DERM")
    docs = [await orgf.practitioner(session, department=dept, campuses=[campus]) for _ in range(3)]
    today = clock.today()
    holiday = next(
        today + dt.timedelta(days=i) for i in range(2, 9) if (today + dt.timedelta(days=i)).weekday() < 5
    )
    saturday = next(
        today + dt.timedelta(days=i) for i in range(1, 8) if (today + dt.timedelta(days=i)).weekday() == 5
    )
    session.add_all(
        [
            ClinicTemplate(
                practitioner_id=docs[0].id,
                department_id=dept.id,
                campus_id=campus.id,
                weekday=holiday.weekday(),
                period="am",
                clinic_type="general",
                on_holidays=False,
            ),
            ClinicTemplate(
                practitioner_id=docs[1].id,
                department_id=dept.id,
                campus_id=campus.id,
                weekday=holiday.weekday(),
                period="am",
                clinic_type="general",
                on_holidays=True,
            ),
            ClinicTemplate(
                practitioner_id=docs[2].id,
                department_id=dept.id,
                campus_id=campus.id,
                weekday=5,
                period="am",
                clinic_type="general",
            ),
            ReleasePolicy(department_id=dept.id, days_ahead=30),
        ]
    )
    await service.add_holidays(session, holidays=[(holiday, "测试节", "Test Day")])
    await service.generate_sessions(session, first=today, days=14)
    await session.commit()
    on_holiday = (
        await session.scalars(
            select(ClinicSession.practitioner_id).where(ClinicSession.session_on == holiday)
        )
    ).all()
    assert on_holiday == [docs[1].id]  # the ordinary clinic is off; the holiday clinic runs

    r = await client.get(
        "/api/v1/scheduling/sessions", params={"department_id": str(dept.id), "weekends": "true"}
    )
    assert r.status_code == 200
    found = {(s["session_on"], s["holiday"]) for s in r.json()}
    saturdays = {
        (d.isoformat(), False)
        for d in (saturday, saturday + dt.timedelta(days=7))
        if d < today + dt.timedelta(14)
    }
    assert found == {(holiday.isoformat(), True)} | saturdays
    everything = await client.get("/api/v1/scheduling/sessions", params={"department_id": str(dept.id)})
    assert len(everything.json()) > len(found)  # ordinary weekdays too
