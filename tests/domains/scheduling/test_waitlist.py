"""Waiting lists through the API: join a full session, a freed place held for the first in line and
notified, accept (idempotent) or decline, holds that expire pass the place on, the real-name rule,
proxies and desks, bad input refused without changing anything."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock, outbox
from zhiyi.core.config import get_settings
from zhiyi.domains.scheduling import holds
from zhiyi.domains.scheduling.models import Booking, Slot, WaitlistEntry

API = "/api/v1/scheduling"


@pytest.fixture
async def world(session):
    """A released session of two one-place times, both booked: full."""
    main = await orgf.campus(session, code="MAIN", is_main=True)
    east = await orgf.campus(session, code="EAST")
    card = await orgf.department(session, code="IM.CARD")
    doc = await orgf.practitioner(session, department=card, campuses=[main, east])
    cs, slots = await sf.session_with_slots(session, practitioner=doc, department=card, campus=main, slots=2)
    people, heads = {}, {}
    for name, phone in (
        ("a", "13900000071"),
        ("b", "13900000072"),
        ("c", "13900000073"),
        ("d", "13900000074"),
    ):
        people[name] = await pf.patient(session, campus=main, name=f"患者{name}", phone=phone)
        acct = await accounts.account(session, username=f"wl-{name}", roles={"patient"}, patient=people[name])
        heads[name] = await accounts.bearer(session, acct)
    desk = await accounts.account(session, username="wl-desk", roles={"registrar"}, campuses=[main])
    east_desk = await accounts.account(session, username="wl-east", roles={"registrar"}, campuses=[east])
    await session.commit()
    w = SimpleNamespace(
        main=main,
        east=east,
        card=card,
        doc=doc,
        cs=cs,
        slots=slots,
        p=people,
        h=heads,
        desk=await accounts.bearer(session, desk),
        east_desk=await accounts.bearer(session, east_desk),
    )
    return w


def key() -> str:
    return f"k-{uuid.uuid4().hex}"


async def book(client, headers, slot, patient=None):
    body = {"slot_id": str(slot.id)} | ({"patient_id": str(patient.id)} if patient else {})
    return await client.post(f"{API}/bookings", headers={**headers, "Idempotency-Key": key()}, json=body)


async def join(client, headers, cs, patient=None):
    body = {"session_id": str(cs.id)} | ({"patient_id": str(patient.id)} if patient else {})
    return await client.post(f"{API}/waitlist", headers=headers, json=body)


async def fill(client, w) -> list[str]:
    """a and d book both times: the session is full. Returns the booking ids."""
    made = [await book(client, w.h["a"], w.slots[0]), await book(client, w.h["d"], w.slots[1])]
    assert [r.status_code for r in made] == [201, 201]
    return [r.json()["id"] for r in made]


async def entries(session, **where) -> list[WaitlistEntry]:
    q = select(WaitlistEntry).order_by(WaitlistEntry.created_at).execution_options(populate_existing=True)
    for k, v in where.items():
        q = q.where(getattr(WaitlistEntry, k) == v)
    return list((await session.scalars(q)).all())


async def booked(session, slot) -> int:
    return int(await session.scalar(select(Slot.booked).where(Slot.id == slot.id)))


async def test_a_session_with_free_places_is_booked_not_waited_for(client, world, session):
    r = await join(client, world.h["b"], world.cs)
    assert r.status_code == 409 and r.json()["code"] == "places_available"
    assert await entries(session) == []


async def test_join_a_full_session_in_order_and_only_once(client, world, session):
    await fill(client, world)
    first = await join(client, world.h["b"], world.cs)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "waiting" and first.json()["position"] == 1
    second = await join(client, world.h["c"], world.cs)
    assert second.status_code == 201 and second.json()["position"] == 2
    again = await join(client, world.h["b"], world.cs)
    assert again.status_code == 409 and again.json()["code"] == "already_waiting"
    mine = (await client.get(f"{API}/waitlist/mine", headers=world.h["c"])).json()
    assert [(e["id"], e["position"], e["practitioner_id"]) for e in mine] == [
        (second.json()["id"], 2, str(world.doc.id))
    ]
    assert len(await entries(session)) == 2


async def test_a_cancelled_place_is_held_for_the_first_in_line_and_notified(
    client, world, session, drain, sandbox
):
    a_booking, _ = await fill(client, world)
    await join(client, world.h["b"], world.cs)
    await join(client, world.h["c"], world.cs)
    r = await client.post(f"{API}/bookings/{a_booking}/cancel", headers=world.h["a"])
    assert r.status_code == 200
    b_entry, c_entry = await entries(session)
    assert (b_entry.status, c_entry.status) == ("offered", "waiting")
    assert b_entry.slot_id == world.slots[0].id
    hold = dt.timedelta(minutes=get_settings().waitlist_hold_minutes)
    assert abs(b_entry.hold_expires_at - (clock.now() + hold)) < dt.timedelta(minutes=1)
    assert await booked(session, world.slots[0]) == 1  # the held place is still counted: not on open sale
    taken = await book(client, world.h["c"], world.slots[0])
    assert taken.status_code == 409 and taken.json()["code"] == "slot_full"
    await drain()
    message = sandbox.last_to(world.p["b"].phone)
    assert message is not None and message.template == "waitlist.offer"
    assert message.params["until"] == holds.local(b_entry.hold_expires_at)
    mine = (await client.get(f"{API}/waitlist/mine", headers=world.h["b"])).json()
    assert mine[0]["status"] == "offered" and mine[0]["slot_id"] == str(world.slots[0].id)
    assert mine[0]["hold_expires_at"] is not None and mine[0]["position"] is None
    assert (await client.get(f"{API}/waitlist/mine", headers=world.h["c"])).json()[0]["position"] == 1


async def test_accepting_an_offer_books_the_held_place_once(client, world, session):
    a_booking, _ = await fill(client, world)
    entry = (await join(client, world.h["b"], world.cs)).json()
    await client.post(f"{API}/bookings/{a_booking}/cancel", headers=world.h["a"])
    k = key()
    first = await client.post(
        f"{API}/waitlist/{entry['id']}/accept", headers={**world.h["b"], "Idempotency-Key": k}
    )
    assert first.status_code == 201, first.text
    assert first.json()["patient_id"] == str(world.p["b"].id) and first.json()["slot_id"] == str(
        world.slots[0].id
    )
    again = await client.post(
        f"{API}/waitlist/{entry['id']}/accept", headers={**world.h["b"], "Idempotency-Key": k}
    )
    assert (
        again.status_code == 201
        and again.json() == first.json()
        and again.headers["idempotent-replayed"] == "true"
    )
    (e,) = await entries(session)
    assert e.status == "booked" and str(e.booking_id) == first.json()["id"]
    assert await booked(session, world.slots[0]) == 1
    active = await session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "booked"))
    assert active == 2
    other_key = await client.post(
        f"{API}/waitlist/{entry['id']}/accept", headers={**world.h["b"], "Idempotency-Key": key()}
    )
    assert other_key.status_code == 409 and other_key.json()["code"] == "offer_not_open"


async def test_declined_places_go_down_the_line_then_back_on_sale(client, world, session):
    a_booking, _ = await fill(client, world)
    b = (await join(client, world.h["b"], world.cs)).json()
    c = (await join(client, world.h["c"], world.cs)).json()
    await client.post(f"{API}/bookings/{a_booking}/cancel", headers=world.h["a"])
    r = await client.post(f"{API}/waitlist/{b['id']}/decline", headers=world.h["b"])
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert [e.status for e in await entries(session)] == ["declined", "offered"]
    # leaving with an offer declines it
    r = await client.post(f"{API}/waitlist/{c['id']}/leave", headers=world.h["c"])
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert await booked(session, world.slots[0]) == 0  # nobody waits: back on open sale
    assert (await book(client, world.h["b"], world.slots[0])).status_code == 201
    again = await client.post(f"{API}/waitlist/{b['id']}/decline", headers=world.h["b"])
    assert again.status_code == 409 and again.json()["code"] == "offer_not_open"


async def test_leaving_the_line(client, world, session):
    await fill(client, world)
    b = (await join(client, world.h["b"], world.cs)).json()
    c = (await join(client, world.h["c"], world.cs)).json()
    r = await client.post(f"{API}/waitlist/{b['id']}/leave", headers=world.h["b"])
    assert r.status_code == 200 and r.json()["status"] == "left"
    assert (await client.get(f"{API}/waitlist/mine", headers=world.h["c"])).json()[0]["position"] == 1
    again = await client.post(f"{API}/waitlist/{b['id']}/leave", headers=world.h["b"])
    assert again.status_code == 409 and again.json()["code"] == "not_waiting"
    rejoined = await join(client, world.h["b"], world.cs)  # one may join again, at the back of the line
    assert rejoined.status_code == 201 and rejoined.json()["position"] == 2
    assert c["id"] != rejoined.json()["id"]


async def test_an_expired_hold_passes_the_place_on_without_a_page_being_opened(
    client, world, session, db, monkeypatch
):
    # configurable (and within the test token's life)
    monkeypatch.setattr(get_settings(), "waitlist_hold_minutes", 5)
    a_booking, _ = await fill(client, world)
    b = (await join(client, world.h["b"], world.cs)).json()
    await join(client, world.h["c"], world.cs)
    await client.post(f"{API}/bookings/{a_booking}/cancel", headers=world.h["a"])
    later = clock.now() + dt.timedelta(minutes=get_settings().waitlist_hold_minutes, seconds=1)
    clock.freeze(later)
    try:
        late = await client.post(
            f"{API}/waitlist/{b['id']}/accept", headers={**world.h["b"], "Idempotency-Key": key()}
        )
        # even before the sweep ran
        assert late.status_code == 409 and late.json()["code"] == "offer_not_open"
        # the worker's periodic jobs run the sweep (the test database stands in for the worker's)
        assert await outbox.Worker(db.sessionmaker).run_jobs() >= 1
        assert [e.status for e in await entries(session)] == ["expired", "offered"]
        assert await booked(session, world.slots[0]) == 1
        clock.freeze(later + dt.timedelta(minutes=get_settings().waitlist_hold_minutes, seconds=1))
        assert await holds.expire_holds(session, clock.now()) == 1
        await session.commit()
        assert [e.status for e in await entries(session)] == ["expired", "expired"]
        assert await booked(session, world.slots[0]) == 0  # nobody left in line: back on open sale
    finally:
        clock.freeze(None)


async def test_the_real_name_rule_applies_to_waiting_and_to_offers(client, world, session):
    await fill(client, world)
    r = await join(client, world.h["a"], world.cs)  # a holds a booking in this department that day
    assert r.status_code == 409 and r.json()["code"] == "one_booking_per_department_day"
    doc2 = await orgf.practitioner(session, department=world.card, campuses=[world.main])
    _, other = await sf.session_with_slots(
        session, practitioner=doc2, department=world.card, campus=world.main
    )
    await session.commit()
    await join(client, world.h["b"], world.cs)
    await join(client, world.h["c"], world.cs)
    # b found a place elsewhere that day
    assert (await book(client, world.h["b"], other[0])).status_code == 201
    d_booking = (await client.get(f"{API}/bookings/mine", headers=world.h["d"])).json()[0]["id"]
    await client.post(f"{API}/bookings/{d_booking}/cancel", headers=world.h["d"])
    # b is passed over, c is offered
    assert [e.status for e in await entries(session)] == ["waiting", "offered"]


async def test_family_members_and_desks_wait_too(client, world, session):
    await fill(client, world)
    child = await client.post(
        "/api/v1/patients/me/dependents",
        headers=world.h["b"],
        json={"name": "小宝", "id_number": pf.id_number(age=6), "relationship": "child"},
    )
    child_id = child.json()["dependent_patient_id"]
    r = await join(client, world.h["b"], world.cs, patient=SimpleNamespace(id=child_id))
    assert r.status_code == 201 and r.json()["patient_id"] == child_id
    assert [
        e["patient_id"] for e in (await client.get(f"{API}/waitlist/mine", headers=world.h["b"])).json()
    ] == [child_id]
    stranger = await join(client, world.h["b"], world.cs, patient=world.p["c"])
    assert stranger.status_code == 403 and stranger.json()["code"] == "forbidden"
    other_campus = await join(client, world.east_desk, world.cs, patient=world.p["c"])
    assert other_campus.status_code == 403
    at_desk = await join(client, world.desk, world.cs, patient=world.p["c"])
    assert at_desk.status_code == 201
    assert {e.channel for e in await entries(session)} == {"online", "desk"}


async def test_bad_waitlist_input_is_refused_and_changes_nothing(client, world, session):
    await fill(client, world)
    entry = (await join(client, world.h["b"], world.cs)).json()
    past_cs, _ = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(hours=-3),
    )
    later_cs, _ = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=9),
        released=False,
    )
    stopped_cs, _ = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=3),
        status="stopped",
    )
    unverified = await pf.patient(session, campus=world.main, name="未认证", verified=False)
    acct = await accounts.account(session, username="wl-unverified", roles={"patient"}, patient=unverified)
    uh = await accounts.bearer(session, acct)
    await session.commit()
    before = [(e.id, e.status) for e in await entries(session)]
    nobody = SimpleNamespace(id=uuid.uuid4())
    cases = [
        (await join(client, world.h["c"], nobody), 404, "session_not_found"),
        (await join(client, world.h["c"], past_cs), 422, "slot_in_past"),
        (await join(client, world.h["c"], later_cs), 409, "not_yet_released"),
        (await join(client, world.h["c"], stopped_cs), 409, "session_closed"),
        (await join(client, uh, world.cs), 422, "patient_not_verified"),
        (await join(client, world.h["b"], world.cs), 409, "already_waiting"),
        (await join(client, world.h["c"], world.cs, patient=nobody), 404, "not_found"),
        (
            await client.post(f"{API}/waitlist", headers=world.h["c"], json={"session_id": "not-a-uuid"}),
            422,
            "validation_failed",
        ),
        (
            await client.post(
                f"{API}/waitlist", headers=world.h["c"], json={"session_id": str(world.cs.id), "x": 1}
            ),
            422,
            "validation_failed",
        ),
        (await client.post(f"{API}/waitlist", headers=world.h["c"], json={}), 422, "validation_failed"),
        (
            await client.post(f"{API}/waitlist", headers=world.desk, json={"session_id": str(world.cs.id)}),
            422,
            "validation_failed",
        ),  # a desk must say for whom
        (
            await client.post(f"{API}/waitlist/{uuid.uuid4()}/leave", headers=world.h["b"]),
            404,
            "waitlist_entry_not_found",
        ),
        (
            await client.post(f"{API}/waitlist/not-a-uuid/leave", headers=world.h["b"]),
            422,
            "validation_failed",
        ),
        (await client.post(f"{API}/waitlist/{entry['id']}/leave", headers=world.h["c"]), 403, "forbidden"),
        (
            await client.post(f"{API}/waitlist/{entry['id']}/decline", headers=world.h["b"]),
            409,
            "offer_not_open",
        ),
        (
            await client.post(
                f"{API}/waitlist/{entry['id']}/accept", headers={**world.h["b"], "Idempotency-Key": key()}
            ),
            409,
            "offer_not_open",
        ),
        (
            await client.post(f"{API}/waitlist/{entry['id']}/accept", headers=world.h["b"]),
            422,
            "idempotency_key_invalid",
        ),
        (
            await client.post(
                f"{API}/waitlist/{entry['id']}/accept", headers={**world.h["c"], "Idempotency-Key": key()}
            ),
            403,
            "forbidden",
        ),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert [(e.id, e.status) for e in await entries(session)] == before
    assert (await client.post(f"{API}/waitlist", json={"session_id": str(world.cs.id)})).status_code == 401


async def test_a_place_put_straight_back_on_sale_is_held_for_the_line_by_the_sweep(client, world, session):
    """A safety net for any path that gives a place back to open sale while patients wait (and for a
    waiting patient who may take a place again): the periodic sweep holds it for the first in line."""
    await fill(client, world)
    doc2 = await orgf.practitioner(session, department=world.card, campuses=[world.main])
    _, other = await sf.session_with_slots(
        session, practitioner=doc2, department=world.card, campus=world.main
    )
    await session.commit()
    await join(client, world.h["b"], world.cs)
    # b may not take a place that day now
    b_elsewhere = (await book(client, world.h["b"], other[0])).json()["id"]
    d_booking = (await client.get(f"{API}/bookings/mine", headers=world.h["d"])).json()[0]["id"]
    await client.post(f"{API}/bookings/{d_booking}/cancel", headers=world.h["d"])
    assert await booked(session, world.slots[1]) == 0  # nobody eligible waits: on open sale
    assert await holds.fill_free_places(session, clock.now()) == 0
    # b is free that day again
    await client.post(f"{API}/bookings/{b_elsewhere}/cancel", headers=world.h["b"])
    assert await holds.fill_free_places(session, clock.now()) == 1
    await session.commit()
    (entry,) = await entries(session)
    assert (entry.status, entry.slot_id) == ("offered", world.slots[1].id)
    assert await booked(session, world.slots[1]) == 1


async def test_the_lines_of_stopped_sessions_are_closed(client, world, session):
    await fill(client, world)
    await join(client, world.h["b"], world.cs)
    world.cs.status = "stopped"
    await session.commit()
    await holds.fill_free_places(session, clock.now())
    await session.commit()
    assert [e.status for e in await entries(session)] == ["closed"]
    assert (await client.get(f"{API}/waitlist/mine", headers=world.h["b"])).json()[0]["status"] == "closed"
