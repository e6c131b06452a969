"""Stopping (停诊) and moving clinic sessions: patients are rebooked or told; nothing is left
booked in a clinic that will not happen; only the clinic office of the campus may do it."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core.config import get_settings
from zhiyi.domains.scheduling.models import Booking, ClinicSession, Slot

API = "/api/v1/scheduling"


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    east = await orgf.campus(session, code="EAST")
    dept = await orgf.department(session, code="IM")
    doc = await orgf.practitioner(session, department=dept, campuses=[main])
    other_doc = await orgf.practitioner(session, department=dept, campuses=[main])
    stopped, slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=main, slots=3, starts_in=dt.timedelta(days=2)
    )
    # the same department the same day, two hours later, with two places
    same_day, _ = await sf.session_with_slots(
        session,
        practitioner=other_doc,
        department=dept,
        campus=main,
        slots=2,
        starts_in=dt.timedelta(days=2, hours=2),
    )
    people, bookings, accts = [], [], []
    for i in range(3):
        p = await pf.patient(session, campus=main, name=f"停诊{i}", phone=f"1380000009{i}")
        acct = await accounts.account(session, username=f"s{i}", roles={"patient"}, patient=p)
        people.append(p)
        accts.append(acct)
        bookings.append(
            await sf.booking(session, cs=stopped, slot=slots[i], patient=p, account=acct, status="booked")
        )
    office = await accounts.account(session, username="office", roles={"registrar"}, campuses=[main])
    east_office = await accounts.account(session, username="eastoffice", roles={"registrar"}, campuses=[east])
    await session.commit()
    return SimpleNamespace(
        main=main,
        dept=dept,
        doc=doc,
        stopped=stopped,
        slots=slots,
        same_day=same_day,
        people=people,
        b=bookings,
        accts=accts,
        office=await accounts.bearer(session, office),
        east_office=await accounts.bearer(session, east_office),
        patient=await accounts.bearer(session, acct),
    )


async def statuses(session, bookings) -> list[str]:
    return [await session.scalar(select(Booking.status).where(Booking.id == b.id)) for b in bookings]


async def test_stopping_rebooks_who_fits_and_tells_everyone(client, world, session, drain, sandbox):
    r = await client.post(f"{API}/sessions/{world.stopped.id}/stop", headers=world.office)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["rebooked"]) == 2 and len(body["cancelled"]) == 1  # two places free the same day
    assert await statuses(session, world.b) == ["cancelled"] * 3
    new = (await session.scalars(select(Booking).where(Booking.session_id == world.same_day.id))).all()
    assert {b.patient_id for b in new} == {world.people[0].id, world.people[1].id}  # in booking order
    assert (
        await session.scalar(select(ClinicSession.status).where(ClinicSession.id == world.stopped.id))
        == "stopped"
    )
    assert set(
        (await session.scalars(select(Slot.capacity).where(Slot.session_id == world.stopped.id))).all()
    ) == {0}
    await drain()
    assert sandbox.last_to(world.people[0].phone).template == "session.stopped.rebooked"
    assert sandbox.last_to(world.people[2].phone).template == "session.stopped"
    again = await client.post(f"{API}/sessions/{world.stopped.id}/stop", headers=world.office)
    assert again.status_code == 409 and again.json()["code"] == "session_closed"


async def test_a_stopped_session_takes_no_bookings(client, world, session):
    await client.post(f"{API}/sessions/{world.stopped.id}/stop", headers=world.office)
    r = await client.post(
        f"{API}/bookings",
        headers={**world.patient, "Idempotency-Key": "k-stopped-1"},
        json={"session_id": str(world.stopped.id)},
    )
    assert r.status_code == 409


async def test_only_the_campus_clinic_office_may_stop_or_move(client, world, session):
    for headers in (world.patient, world.east_office):
        assert (
            await client.post(f"{API}/sessions/{world.stopped.id}/stop", headers=headers)
        ).status_code == 403
        later = (world.stopped.starts_at + dt.timedelta(hours=1)).isoformat()
        r = await client.post(
            f"{API}/sessions/{world.stopped.id}/move", headers=headers, json={"starts_at": later}
        )
        assert r.status_code == 403
    assert await statuses(session, world.b) == ["booked"] * 3


async def test_moving_shifts_times_and_bookings_follow(client, world, session, drain, sandbox):
    later = world.stopped.starts_at + dt.timedelta(hours=3)
    r = await client.post(
        f"{API}/sessions/{world.stopped.id}/move", headers=world.office, json={"starts_at": later.isoformat()}
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["moved"]) == 3 and r.json()["cancelled"] == []
    starts = (
        await session.scalars(
            select(Slot.starts_at).where(Slot.session_id == world.stopped.id).order_by(Slot.starts_at)
        )
    ).all()
    assert starts[0] == later and starts[1] == later + dt.timedelta(minutes=10)
    assert await statuses(session, world.b) == ["booked"] * 3
    await drain()
    assert sandbox.last_to(world.people[1].phone).template == "session.moved"


async def test_moving_to_a_day_already_booked_cancels_that_booking_only(client, world, session):
    colleague = await orgf.practitioner(session, department=world.dept, campuses=[world.main])
    next_day, next_slots = await sf.session_with_slots(
        session,
        practitioner=colleague,
        department=world.dept,
        campus=world.main,
        starts_in=dt.timedelta(days=3),
        slots=1,
    )
    await sf.booking(
        session,
        cs=next_day,
        slot=next_slots[0],
        patient=world.people[0],
        account=world.accts[0],
        status="booked",
    )
    await session.commit()
    # the colleague's day, 10:00 there (not "a day and three hours later": late in the evening that is the
    # day after)
    target = dt.datetime.combine(
        next_day.session_on, dt.time(10, 0), tzinfo=ZoneInfo(get_settings().timezone)
    )
    r = await client.post(
        f"{API}/sessions/{world.stopped.id}/move",
        headers=world.office,
        json={"starts_at": target.isoformat()},
    )
    assert r.status_code == 200, r.text
    assert r.json()["cancelled"] == [str(world.b[0].id)] and len(r.json()["moved"]) == 2
    assert await statuses(session, world.b) == ["cancelled", "booked", "booked"]
    # the place is free
    assert await session.scalar(select(Slot.booked).where(Slot.id == world.slots[0].id)) == 0


@pytest.mark.parametrize(
    "starts_at",
    [
        "2020-01-01T08:00:00+08:00",
        "tomorrow",
        "2030-01-01T08:00:00",
        None,
        "9999-12-31T23:00:00+00:00",
        "2031-01-01T08:00:00+08:00",
    ],
)
async def test_bad_moves_are_refused_and_change_nothing(client, world, session, starts_at):
    r = await client.post(
        f"{API}/sessions/{world.stopped.id}/move", headers=world.office, json={"starts_at": starts_at}
    )
    assert r.status_code in (400, 422) and "code" in r.json()
    assert (
        await session.scalar(select(ClinicSession.starts_at).where(ClinicSession.id == world.stopped.id))
        == world.stopped.starts_at
    )


async def test_a_doctor_cannot_hold_two_clinics_in_one_half_day(client, world, session):
    busy, _ = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.dept,
        campus=world.main,
        starts_in=dt.timedelta(days=4),
        slots=1,
    )
    await session.commit()
    r = await client.post(
        f"{API}/sessions/{world.stopped.id}/move",
        headers=world.office,
        json={"starts_at": busy.starts_at.isoformat()},
    )  # the same half-day at any hour of the run
    assert r.status_code == 409 and r.json()["code"] == "doctor_busy"
