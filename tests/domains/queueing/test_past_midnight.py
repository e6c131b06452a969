"""A clinic just after midnight (scheduling/clinic_day.py): at 23:50 a clinic starting at 00:10 is
tomorrow's, but it is one of the clinics of now once arrival for it has opened. Its doctor's day lists
it, the desk finds its patients, and a booking of one of its times past midnight has the clinic's day
(the real-name rule and the doctor's day read that day), not the calendar day of the time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import stopped_at
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core.policy import Actor
from zhiyi.domains.patients import service as patients
from zhiyi.domains.queueing import service as queueing
from zhiyi.domains.scheduling import service as scheduling

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def at_2350():
    yield from stopped_at(23, 50)


async def _world(session, starts_in: dt.timedelta):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    dept = await orgf.department(session, code="IM")
    doc = await orgf.practitioner(session, department=dept, campuses=[main])
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=main, starts_in=starts_in, slots=3
    )
    p = await pf.patient(session, campus=main, name="夜诊", phone="13900000091")
    acct = await accounts.account(session, username="night", roles={"patient"}, patient=p)
    doc_acct = await accounts.account(
        session, username="nightdoc", roles={"doctor"}, campuses=[main], practitioner=doc
    )
    desk = await accounts.account(session, username="nightdesk", roles={"registrar"}, campuses=[main])
    await session.commit()
    return (
        cs,
        slots,
        p,
        Actor(acct.id, frozenset({"patient"}), patient_id=p.id),
        Actor(doc_acct.id, frozenset({"doctor"}), campus_ids=frozenset({main.id}), practitioner_id=doc.id),
        Actor(desk.id, frozenset({"registrar"}), campus_ids=frozenset({main.id})),
    )


async def test_a_clinic_at_ten_past_midnight_is_one_of_now_at_ten_to(at_2350, app, session):
    cs, slots, p, patient, doctor, desk = await _world(session, dt.timedelta(minutes=20))
    assert cs.session_on == at_2350.date() + dt.timedelta(days=1)  # tomorrow's, by the calendar
    assert cs.id in {s.id for s in await queueing.todays_sessions(session, actor=doctor)}
    made = await scheduling.book_slot(session, actor=patient, patient_id=p.id, slot_id=slots[0].id)
    _, found = await queueing.arrivals(session, actor=desk, token=patients.issue_onecode(patient_id=p.id))
    assert [b.id for b in found] == [made.id]


async def test_a_clinic_tomorrow_afternoon_is_not_one_of_now(at_2350, app, session):
    cs, slots, p, patient, doctor, desk = await _world(session, dt.timedelta(hours=14))
    assert cs.id not in {s.id for s in await queueing.todays_sessions(session, actor=doctor)}
    await scheduling.book_slot(session, actor=patient, patient_id=p.id, slot_id=slots[0].id)
    _, found = await queueing.arrivals(session, actor=desk, token=patients.issue_onecode(patient_id=p.id))
    assert found == []


async def test_a_time_past_midnight_in_a_clinic_of_the_evening_is_booked_on_the_clinics_day(
    at_2350, app, session
):
    # a clinic from 23:55: its second time, 00:05, is on the next calendar day
    cs, slots, p, patient, _, _ = await _world(session, dt.timedelta(minutes=5))
    assert slots[1].starts_at.astimezone(ZONE).date() != cs.session_on
    made = await scheduling.book_slot(session, actor=patient, patient_id=p.id, slot_id=slots[1].id)
    assert made.session_on == cs.session_on
    assert [b.id for b in await scheduling.bookings_on(session, patient_id=p.id, day=cs.session_on)] == [
        made.id
    ]
