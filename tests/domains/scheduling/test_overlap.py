"""One patient, one place at a time (scheduling/overlap.py): a booking may not overlap another active
booking of the same patient on any campus, on every path that books (a patient's own booking, by
slot and by session (the rush lane's one statement on PostgreSQL), a desk, the waiting list's offer,
the rebooking of a stopped clinic), also when the other booking is being made at that moment."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import LANE_ON_AND_OFF
from tests.domains.scheduling.rush.test_own_booking import BOOKINGS, book, clinic, said  # noqa: F401  (fixtures)
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from tests.locks import until_waiting_on_a_lock
from zhiyi.domains.org.models import Campus
from zhiyi.domains.scheduling import holds
from zhiyi.domains.scheduling.models import Booking
from zhiyi.domains.scheduling.overlap_repository import lock_patient

pytestmark = LANE_ON_AND_OFF  # the booking rules hold with the rush lane on and off

API = "/api/v1/scheduling"


async def book_slot(client, headers, slot, patient=None):
    body = {"slot_id": str(slot.id)} | ({"patient_id": str(patient.id)} if patient else {})
    return await client.post(BOOKINGS, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, json=body)


async def active(db, patient) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.patient_id == patient.id, Booking.status == "booked")
        )


def refused(r) -> bool:
    return r.status_code == 409 and r.json()["code"] == "booking_overlaps"


async def test_a_patient_cannot_book_two_campuses_at_the_same_time(clinic, backend, said, rush_lane):  # noqa: F811
    db, client, make, patients = clinic
    # two clinics of two departments on two campuses, at the same hour
    east, east_slots = await make(places=3)
    west, west_slots = await make(places=3)
    [(patient, _, headers)] = await patients(1)
    first = await book(client, headers, east.id)  # the earliest time of the east clinic
    assert first.status_code == 201 and first.json()["slot_id"] == str(east_slots[0].id)
    by_session = await book(client, headers, west.id)  # its earliest time is the same ten minutes
    assert refused(by_session), by_session.text
    assert holds.local(east_slots[0].starts_at) in by_session.json()["message"]  # which booking is in the way
    assert refused(await book_slot(client, headers, west_slots[0]))
    # the lane's function said 'usual'; the usual path explained it (with the lane off: asked nothing)
    assert said == (["booked", "usual"] if backend.name == "postgresql" and rush_lane is None else [])
    assert await active(db, patient) == 1
    later = await book_slot(client, headers, west_slots[1])  # when the first has ended: fine
    assert later.status_code == 201, later.text
    assert await active(db, patient) == 2


async def test_a_desk_cannot_book_a_patient_twice_at_once(clinic):  # noqa: F811
    db, client, make, patients = clinic
    east, east_slots = await make(places=2)
    west, west_slots = await make(places=2)
    [(patient, _, headers)] = await patients(1)
    assert (await book_slot(client, headers, east_slots[0])).status_code == 201
    async with db.sessionmaker() as s:
        desk = await accounts.account(
            s, username="overlap-desk", roles={"registrar"}, campuses=[await s.get(Campus, west.campus_id)]
        )
        desk_headers = await accounts.bearer(s, desk)
        await s.commit()
    assert refused(await book_slot(client, desk_headers, west_slots[0], patient))
    assert (await book_slot(client, desk_headers, west_slots[1], patient)).status_code == 201


async def test_a_waiting_list_offer_at_the_same_time_cannot_be_accepted(clinic):  # noqa: F811
    db, client, make, patients = clinic
    full, full_slots = await make(places=1)
    other, other_slots = await make(places=1)
    (waiting, _, h_waiting), (holder, _, h_holder) = await patients(2)
    held = await book_slot(client, h_holder, full_slots[0])
    joined = await client.post(f"{API}/waitlist", headers=h_waiting, json={"session_id": str(full.id)})
    assert joined.status_code == 201, joined.text
    # booked elsewhere, same time
    assert (await book_slot(client, h_waiting, other_slots[0])).status_code == 201
    await client.post(f"{API}/bookings/{held.json()['id']}/cancel", headers=h_holder)  # the place is offered
    accept = await client.post(
        f"{API}/waitlist/{joined.json()['id']}/accept",
        headers={**h_waiting, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused(accept), accept.text
    assert await active(db, waiting) == 1


async def test_a_stopped_clinic_rebooks_its_patients_only_where_they_are_free(daytime, live_app):
    db, client = live_app.db, live_app.client
    async with db.sessionmaker() as s:
        campus = await orgf.campus(s, code="OVL", is_main=True)
        dept, elsewhere = await orgf.department(s, code="IM.OVL"), await orgf.department(s, code="IM.OVE")
        doc, doc2, doc3 = [
            await orgf.practitioner(s, department=d, campuses=[campus]) for d in (dept, dept, elsewhere)
        ]
        stopped, stopped_slots = await sf.session_with_slots(
            s, practitioner=doc, department=dept, campus=campus, starts_in=dt.timedelta(days=2, hours=-1)
        )
        same_day, same_day_slots = await sf.session_with_slots(
            s, practitioner=doc2, department=dept, campus=campus, starts_in=dt.timedelta(days=2)
        )
        other, other_slots = await sf.session_with_slots(
            s, practitioner=doc3, department=elsewhere, campus=campus, starts_in=dt.timedelta(days=2)
        )
        patient = await pf.patient(s, campus=campus)
        acct = await accounts.account(s, username="overlap-p", roles={"patient"}, patient=patient)
        await sf.booking(s, cs=stopped, slot=stopped_slots[0], patient=patient, account=acct, status="booked")
        await sf.booking(s, cs=other, slot=other_slots[0], patient=patient, account=acct, status="booked")
        office = await accounts.bearer(
            s, await accounts.account(s, username="overlap-office", roles={"admin"}, campuses=[campus])
        )
        await s.commit()
    r = await client.post(f"{API}/sessions/{stopped.id}/stop", headers=office)
    assert r.status_code == 200 and len(r.json()["rebooked"]) == 1, r.text
    async with db.sessionmaker() as s:
        moved = await s.scalar(
            select(Booking).where(Booking.patient_id == patient.id, Booking.session_id == same_day.id)
        )
    # the same day's earliest time is when the patient is in the other clinic: the next one instead
    assert moved.slot_id == same_day_slots[1].id


async def test_two_bookings_made_at_once_see_each_other(clinic, backend):  # noqa: F811
    """Another booking of the patient at the same time, not yet committed, holding the patient's lock as
    every path that books takes it: this booking waits for it and then refuses (without the lock it
    would not see the other and both would stand)."""
    if backend.name != "postgresql":
        pytest.skip(
            "SQLite has one writer at a time: a booking's transaction holds the write lock from its start"
        )
    db, client, make, patients = clinic
    east, east_slots = await make(places=2)
    west, _ = await make(places=2)
    [(patient, acct, headers)] = await patients(1)
    async with db.sessionmaker() as other:
        await lock_patient(other, patient.id)
        await sf.booking(other, cs=east, slot=east_slots[0], patient=patient, account=acct, status="booked")
        pending = asyncio.create_task(book(client, headers, west.id))  # the lane first, then the usual way
        await until_waiting_on_a_lock(db)  # the booking waits for the patient's lock
        assert not pending.done(), "the booking did not wait for the patient's lock"
        await other.commit()
    answer = await pending
    assert refused(answer), answer.text
    assert await active(db, patient) == 1
