"""Clinics and bookings in the FHIR repository: a Schedule per clinic session, a Slot per time (free until
full), an Appointment per booking, following each change through the outbox (docs/fhir.md states the
delay, and the real worker is held to it here); a patient's token finds their own appointments only."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace

import pytest

from tests.factories import fhir as ff
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import outbox
from zhiyi.core.policy import Actor
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import changes, fhir
from zhiyi.domains.scheduling import service as scheduling


@pytest.fixture
async def world(session, app):  # the app installs the policies the services ask
    main = await orgf.campus(session, code="MAIN", is_main=True)
    dept = await orgf.department(session, code="IM.CARD")
    doc = await orgf.practitioner(session, department=dept, campuses=[main])
    room = await orgf.room(session, campus=main)
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=main, slots=2, room=room
    )
    p = await pf.patient(session, campus=main, name="预约")
    acct = await accounts.account(session, username="sched-fhir", roles={"patient"}, patient=p)
    office = await accounts.account(session, username="sched-office", roles={"registrar"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        main=main,
        dept=dept,
        doc=doc,
        room=room,
        cs=cs,
        slots=slots,
        patient=p,
        acct=acct,
        me=Actor(acct.id, frozenset({"patient"}), patient_id=p.id),
        office=Actor(office.id, frozenset({"registrar"}), campus_ids=frozenset({main.id})),
    )


async def test_a_booking_is_an_appointment_in_a_busy_slot_of_the_schedule(session, world, drain):
    made = await scheduling.book_slot(
        session, actor=world.me, patient_id=world.patient.id, slot_id=world.slots[0].id
    )
    await session.commit()
    await drain()
    appt = ff.valid(await ff.current(session, "Appointment", made.id))
    assert appt["status"] == "booked"
    assert appt["slot"] == [{"reference": f"Slot/{world.slots[0].id}"}]
    actors = [x["actor"]["reference"] for x in appt["participant"]]
    assert actors == [
        f"Patient/{world.patient.id}",
        f"Practitioner/{world.doc.id}",
        f"Location/{world.room.id}",
        f"HealthcareService/{world.dept.id}",
    ]
    assert appt["serviceType"][0]["coding"][0] == {
        "system": "urn:zhiyi:department",
        "code": "IM.CARD",
        "display": world.dept.name_zh,
    }
    assert appt["minutesDuration"] == 10
    slot = ff.valid(await ff.current(session, "Slot", world.slots[0].id))
    assert slot["status"] == "busy" and slot["schedule"] == {"reference": f"Schedule/{world.cs.id}"}
    schedule = ff.valid(await ff.current(session, "Schedule", world.cs.id))
    assert schedule["active"] is True
    assert {"reference": f"Practitioner/{world.doc.id}"} in schedule["actor"]

    await scheduling.cancel_booking(session, actor=world.me, booking_id=made.id)
    await session.commit()
    await drain()
    assert (await ff.current(session, "Appointment", made.id))["status"] == "cancelled"
    assert (await ff.current(session, "Slot", world.slots[0].id))["status"] == "free"
    assert await ff.version(session, "Schedule", world.cs.id) == "1"  # unchanged: no new version


async def test_check_in_and_the_end_of_the_visit_change_the_appointment(session, world, drain):
    b = await sf.booking(
        session, cs=world.cs, slot=world.slots[1], patient=world.patient, account=world.acct, status="booked"
    )
    await scheduling.mark_checked_in(session, booking_id=b.id)
    await session.commit()
    await drain()
    assert (await ff.current(session, "Appointment", b.id))["status"] == "arrived"
    await scheduling.mark_completed(session, booking_id=b.id)
    await session.commit()
    await drain()
    assert (await ff.current(session, "Appointment", b.id))["status"] == "fulfilled"


async def test_a_stopped_clinic_has_an_inactive_schedule_and_no_free_slot(session, world, drain):
    b = await sf.booking(
        session, cs=world.cs, slot=world.slots[0], patient=world.patient, account=world.acct, status="booked"
    )
    await fhir.project_all(session)
    await changes.stop_session(session, actor=world.office, session_id=world.cs.id)
    await session.commit()
    await drain()
    assert (await ff.current(session, "Schedule", world.cs.id))["active"] is False
    assert {(await ff.current(session, "Slot", s.id))["status"] for s in world.slots} == {"busy-unavailable"}
    assert (await ff.current(session, "Appointment", b.id))["status"] == "cancelled"
    assert await fhir.project_all(session) == 0


async def test_the_worker_delivers_a_booking_within_its_bound(db, session, world, monkeypatch):
    """After the commit wakes it (as the request's transaction does), the in-process worker delivers
    within GATHER_SECONDS and one pass: well inside its idle interval, set to 30 s here so that only the
    wake-up can explain a delivery in time (docs/fhir.md)."""
    worker = outbox.Worker(db.sessionmaker, interval=30)
    idle, delivered = asyncio.Event(), asyncio.Event()
    run_once = worker.run_once

    async def watched() -> int:
        n = await run_once()
        (delivered if n else idle).set()
        return n

    async def no_jobs() -> int:
        return 0

    monkeypatch.setattr(worker, "run_once", watched)
    monkeypatch.setattr(worker, "run_jobs", no_jobs)
    worker.start()
    try:
        await asyncio.wait_for(idle.wait(), 10)  # the fixtures' events delivered; waiting to be woken
        delivered.clear()
        made = await scheduling.book_slot(
            session, actor=world.me, patient_id=world.patient.id, slot_id=world.slots[0].id
        )
        await session.commit()
        committed = time.monotonic()
        worker.wake()
        await asyncio.wait_for(delivered.wait(), 10)
        elapsed = time.monotonic() - committed
    finally:
        await worker.stop()
    assert elapsed < 1.0, elapsed  # the stated bound: 50 ms and a pass, never the idle interval
    assert (await ff.current(session, "Appointment", made.id))["status"] == "booked"


async def test_a_fhir_client_cannot_change_an_appointment(client, session, world, drain, admin_headers):
    made = await scheduling.book_slot(
        session, actor=world.me, patient_id=world.patient.id, slot_id=world.slots[0].id
    )
    await session.commit()
    await drain()
    before = await ff.current(session, "Appointment", made.id)
    changed = {k: v for k, v in before.items() if k != "meta"} | {"status": "cancelled"}
    r = await client.put(f"/fhir/Appointment/{made.id}", headers=admin_headers, json=changed)
    assert r.status_code == 422, r.text
    assert r.json()["issue"][0]["code"] == "business-rule"
    r = await client.delete(f"/fhir/Slot/{world.slots[0].id}", headers=admin_headers)
    assert r.status_code == 422, r.text
    assert (await client.get(f"/fhir/Appointment/{made.id}", headers=admin_headers)).json() == before


def _ids(bundle: dict) -> set[str]:
    return {
        e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Appointment"
    }


async def test_a_patient_finds_their_own_appointments_only(client, session, world, patient_caller):
    mine, me = await patient_caller("appt-a")
    _, other = await patient_caller("appt-b")
    booked = {}
    for pid, slot in ((me, world.slots[0]), (other, world.slots[1])):
        person = await patients.get_patient(session, patient_id=uuid.UUID(pid))
        b = await sf.booking(
            session, cs=world.cs, slot=slot, patient=person, account=world.acct, status="booked"
        )
        await fhir.project_booking(session, b.id)
        booked[pid] = str(b.id)
    await session.commit()
    r = await client.get(f"/fhir/Appointment?patient={me}", headers=mine)
    assert r.status_code == 200, r.text
    assert _ids(r.json()) == {booked[me]}
    r = await client.get("/fhir/Appointment", headers=mine)
    assert r.status_code == 200 and _ids(r.json()) == {booked[me]}
    r = await client.get(f"/fhir/Appointment?patient={other}", headers=mine)
    assert r.status_code != 200 or _ids(r.json()) == set()
    assert (await client.get(f"/fhir/Appointment/{booked[other]}", headers=mine)).status_code == 404
