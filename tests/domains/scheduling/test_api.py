"""Booking through the API: rules, idempotency, proxies, desks, bad input (acceptance 5)."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.conftest import LANE_ON_AND_OFF
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.domains.scheduling.models import Booking, Slot

pytestmark = LANE_ON_AND_OFF  # the booking rules hold with the rush lane on and off


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    east = await orgf.campus(session, code="EAST")
    im = await orgf.department(session, code="IM")
    card = await orgf.department(session, code="IM.CARD", parent=im)
    doc = await orgf.practitioner(session, department=card, campuses=[main, east])
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=card, campus=main, slots=3, capacity=1
    )
    east_cs, east_slots = await sf.session_with_slots(
        session, practitioner=doc, department=card, campus=east, starts_in=dt.timedelta(days=2)
    )
    me = await pf.patient(session, campus=main, name="预约人", phone="13900000051")
    other = await pf.patient(session, campus=main, name="陌生人", phone="13900000052")
    me_acct = await accounts.account(session, username="me", roles={"patient"}, patient=me)
    other_acct = await accounts.account(session, username="other", roles={"patient"}, patient=other)
    desk = await accounts.account(session, username="desk", roles={"registrar"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        main=main,
        im=im,
        card=card,
        doc=doc,
        cs=cs,
        slots=slots,
        east_slots=east_slots,
        me=me,
        other=other,
        h=await accounts.bearer(session, me_acct),
        other_h=await accounts.bearer(session, other_acct),
        desk=await accounts.bearer(session, desk),
    )


def key() -> str:
    return f"k-{uuid.uuid4().hex}"


async def book(client, headers, slot, patient=None, k=None):
    body = {"slot_id": str(slot.id)} | ({"patient_id": str(patient.id)} if patient else {})
    return await client.post(
        "/api/v1/scheduling/bookings", headers={**headers, "Idempotency-Key": k or key()}, json=body
    )


async def bookings(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(Booking)))


async def test_book_then_see_it_and_the_slot_is_taken(client, world, session):
    r = await book(client, world.h, world.slots[0])
    assert r.status_code == 201, r.text
    assert r.json()["patient_id"] == str(world.me.id) and r.json()["status"] == "booked"
    mine = await client.get("/api/v1/scheduling/bookings/mine", headers=world.h)
    assert [b["id"] for b in mine.json()] == [r.json()["id"]]
    slots = (await client.get(f"/api/v1/scheduling/sessions/{world.cs.id}/slots")).json()
    assert [s["available"] for s in slots] == [0, 1, 1]
    found = (
        await client.get("/api/v1/scheduling/sessions", params={"department_id": str(world.im.id)})
    ).json()
    # found through the parent department
    assert {s["id"]: s["available"] for s in found}[str(world.cs.id)] == 2


async def test_a_retried_key_returns_the_first_answer_and_never_books_twice(client, world, session):
    k = key()
    first = await book(client, world.h, world.slots[0], k=k)
    again = await book(client, world.h, world.slots[0], k=k)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert await bookings(session) == 1
    other_body = await book(client, world.h, world.slots[1], k=k)
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"


async def test_real_name_rule_one_booking_per_department_and_day(client, world, session):
    assert (await book(client, world.h, world.slots[0])).status_code == 201
    r = await book(client, world.h, world.slots[1])
    assert r.status_code == 409 and r.json()["code"] == "one_booking_per_department_day"
    assert await bookings(session) == 1


async def test_full_slot_is_refused_and_cancelling_frees_it_at_once(client, world, session):
    mine = await book(client, world.h, world.slots[0])
    full = await book(client, world.other_h, world.slots[0])
    assert full.status_code == 409 and full.json()["code"] == "slot_full"
    cancelled = await client.post(f"/api/v1/scheduling/bookings/{mine.json()['id']}/cancel", headers=world.h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await book(client, world.other_h, world.slots[0])).status_code == 201
    again = await client.post(f"/api/v1/scheduling/bookings/{mine.json()['id']}/cancel", headers=world.h)
    assert again.status_code == 409


async def test_bad_booking_input_is_refused_and_changes_nothing(client, world, session):
    past_cs, past = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(hours=-3),
    )
    unreleased_cs, unreleased = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=9),
        released=False,
    )
    stopped_cs, stopped = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=3),
        status="stopped",
    )
    await session.commit()
    cases = [
        (await book(client, world.h, past[0]), 422, "slot_in_past"),
        (await book(client, world.h, unreleased[0]), 409, "not_yet_released"),
        (await book(client, world.h, stopped[0]), 409, "session_closed"),
        (await book(client, world.h, SimpleNamespace(id=uuid.uuid4())), 404, "slot_not_found"),
        (
            await book(client, world.h, world.slots[0], patient=world.other),
            403,
            "forbidden",
        ),  # not a dependent
        (await book(client, world.h, world.slots[0], k="short"), 422, "idempotency_key_invalid"),
        (
            await book(client, world.h, world.slots[0], k="bad key with spaces"),
            422,
            "idempotency_key_invalid",
        ),
        (
            await client.post(
                "/api/v1/scheduling/bookings", headers=world.h, json={"slot_id": str(world.slots[0].id)}
            ),
            422,
            "idempotency_key_invalid",
        ),
        (
            await client.post(
                "/api/v1/scheduling/bookings",
                headers={**world.h, "Idempotency-Key": key()},
                json={"slot_id": "not-a-uuid"},
            ),
            422,
            "validation_failed",
        ),
        (
            await client.post(
                "/api/v1/scheduling/bookings",
                headers={**world.h, "Idempotency-Key": key()},
                json={"slot_id": str(world.slots[0].id), "price": 0},
            ),
            422,
            "validation_failed",
        ),
        (
            await book(client, world.desk, world.east_slots[0], patient=world.me),
            403,
            "forbidden",
        ),  # other campus's desk
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await bookings(session) == 0
    assert await session.scalar(select(func.sum(Slot.booked))) == 0


async def test_family_proxy_and_desk_can_book_for_a_patient(client, world, session):
    child = await client.post(
        "/api/v1/patients/me/dependents",
        headers=world.h,
        json={"name": "小宝", "id_number": pf.id_number(age=6), "relationship": "child"},
    )
    child_id = child.json()["dependent_patient_id"]
    r = await book(client, world.h, world.slots[1], patient=SimpleNamespace(id=child_id))
    assert r.status_code == 201 and r.json()["patient_id"] == child_id  # vouched for by the verified guardian
    mine = (await client.get("/api/v1/scheduling/bookings/mine", headers=world.h)).json()
    assert [b["patient_id"] for b in mine] == [child_id]
    r = await book(client, world.desk, world.slots[2], patient=world.other)
    assert r.status_code == 201
    assert (await client.get("/api/v1/scheduling/bookings/mine", headers=world.other_h)).json()[0][
        "channel"
    ] == "desk"


async def test_unverified_patient_cannot_book(client, world, session):
    p = await pf.patient(session, campus=world.main, name="未认证", verified=False)
    acct = await accounts.account(session, username="unverified", roles={"patient"}, patient=p)
    h = await accounts.bearer(session, acct)
    await session.commit()
    r = await book(client, h, world.slots[1])
    assert r.status_code == 422 and r.json()["code"] == "patient_not_verified"


async def test_far_off_dates_are_refused_not_a_500(client):
    r = await client.get("/api/v1/scheduling/sessions", params={"date_from": "9999-12-30"})
    assert r.status_code == 422
