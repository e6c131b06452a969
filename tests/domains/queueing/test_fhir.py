"""Visits in the FHIR repository: a checked-in patient has an Encounter (arrived), in progress once
called, finished when the doctor ends it, cancelled with the booking; delivered by the outbox. A patient's
token reaches their own Encounters only; FHIR clients cannot change them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.factories import fhir as ff
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core.policy import Actor
from zhiyi.domains.queueing import fhir
from zhiyi.domains.queueing import service as queueing
from zhiyi.domains.scheduling import changes


@pytest.fixture
async def world(session, app):  # the app installs the policies the services ask
    main = await orgf.campus(session, code="MAIN", is_main=True)
    dept = await orgf.department(session, code="IM")
    doc = await orgf.practitioner(session, department=dept, campuses=[main])
    room = await orgf.room(session, campus=main)
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=main, starts_in=dt.timedelta(minutes=20), room=room
    )
    p = await pf.patient(session, campus=main, name="就诊")
    acct = await accounts.account(session, username="enc-p", roles={"patient"}, patient=p)
    b = await sf.booking(session, cs=cs, slot=slots[0], patient=p, account=acct, status="booked")
    doc_acct = await accounts.account(
        session, username="enc-doc", roles={"doctor"}, campuses=[main], practitioner=doc
    )
    office = await accounts.account(session, username="enc-office", roles={"registrar"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        office=Actor(office.id, frozenset({"registrar"}), campus_ids=frozenset({main.id})),
        main_id=main.id,
        doc_id=doc.id,
        room_id=room.id,
        cs_id=cs.id,
        patient_id=p.id,
        booking_id=b.id,
        me=Actor(acct.id, frozenset({"patient"}), patient_id=p.id),
        doctor=Actor(
            doc_acct.id, frozenset({"doctor"}), campus_ids=frozenset({main.id}), practitioner_id=doc.id
        ),
    )


async def test_a_visit_is_an_encounter_from_arrival_to_the_end(session, world, drain):
    entry = await queueing.arrive(session, actor=world.me, booking_id=world.booking_id)
    await session.commit()
    await drain()
    enc = ff.valid(await ff.current(session, "Encounter", entry.id))
    assert enc["status"] == "arrived"
    assert enc["class"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "AMB",
        "display": "ambulatory",
    }
    assert enc["subject"] == {"reference": f"Patient/{world.patient_id}"}
    assert enc["appointment"] == [{"reference": f"Appointment/{world.booking_id}"}]
    assert enc["participant"][0]["individual"] == {"reference": f"Practitioner/{world.doc_id}"}
    assert enc["location"] == [{"location": {"reference": f"Location/{world.room_id}"}}]
    assert enc["serviceProvider"] == {"reference": f"Organization/{world.main_id}"}
    assert (await ff.current(session, "Appointment", world.booking_id))["status"] == "arrived"

    session.expire_all()  # the doctor's request reads the booking as checked in (a session of its own)
    # (ids only from here: the fixture's rows are expired)
    await queueing.run_queue(session, actor=world.doctor, session_id=world.cs_id, action="call_next")
    await session.commit()
    await drain()
    enc = ff.valid(await ff.current(session, "Encounter", entry.id))
    assert enc["status"] == "in-progress" and enc["statusHistory"][0]["status"] == "arrived"

    await queueing.run_queue(session, actor=world.doctor, session_id=world.cs_id, action="finish")
    await session.commit()
    await drain()
    enc = ff.valid(await ff.current(session, "Encounter", entry.id))
    assert enc["status"] == "finished" and "end" in enc["period"]
    assert (await ff.current(session, "Appointment", world.booking_id))["status"] == "fulfilled"
    assert await fhir.project_all(session) == 0  # already as the rows say


async def test_a_stopped_clinic_cancels_its_encounters(session, world, drain):
    entry = await queueing.arrive(session, actor=world.me, booking_id=world.booking_id)
    await session.commit()
    await drain()
    session.expire_all()
    await changes.stop_session(session, actor=world.office, session_id=world.cs_id)
    await session.commit()
    await drain()
    assert (await ff.current(session, "Encounter", entry.id))["status"] == "cancelled"


async def test_encounters_are_their_patients_own_and_not_for_fhir_writes(
    client, session, world, drain, admin_headers, patient_caller
):
    entry = await queueing.arrive(session, actor=world.me, booking_id=world.booking_id)
    await session.commit()
    await drain()
    before = await ff.current(session, "Encounter", entry.id)
    changed = {k: v for k, v in before.items() if k != "meta"} | {"status": "finished"}
    r = await client.put(f"/fhir/Encounter/{entry.id}", headers=admin_headers, json=changed)
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "business-rule", r.text
    assert (await client.get(f"/fhir/Encounter/{entry.id}", headers=admin_headers)).json() == before
    stranger, _ = await patient_caller("enc-stranger")
    assert (await client.get(f"/fhir/Encounter/{entry.id}", headers=stranger)).status_code == 404
