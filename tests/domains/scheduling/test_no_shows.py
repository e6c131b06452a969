"""The no-show policy: bookings nobody came to become no-shows after a grace; three in ninety days
(settings) suspend ONLINE booking for thirty days from the last one, while desks still book."""

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
from zhiyi.core import clock
from zhiyi.core.config import get_settings
from zhiyi.core.outbox import OutboxEvent
from zhiyi.domains.scheduling import holds, no_shows
from zhiyi.domains.scheduling.models import Booking, BookingSuspension

API = "/api/v1/scheduling"


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    card = await orgf.department(session, code="IM.CARD")
    doc = await orgf.practitioner(session, department=card, campuses=[main])
    cs, slots = await sf.session_with_slots(session, practitioner=doc, department=card, campus=main, slots=3)
    me = await pf.patient(session, campus=main, name="爽约人", phone="13900000081")
    son = await pf.patient(session, campus=main, name="儿子", phone="13900000082")
    await pf.family_link(session, proxy=son, dependent=me, relationship="parent")
    me_acct = await accounts.account(session, username="ns-me", roles={"patient"}, patient=me)
    son_acct = await accounts.account(session, username="ns-son", roles={"patient"}, patient=son)
    desk = await accounts.account(session, username="ns-desk", roles={"registrar"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        main=main,
        card=card,
        doc=doc,
        cs=cs,
        slots=slots,
        me=me,
        son=son,
        me_acct=me_acct,
        h=await accounts.bearer(session, me_acct),
        son_h=await accounts.bearer(session, son_acct),
        desk=await accounts.bearer(session, desk),
    )


async def missed(
    session, w, *, ago: dt.timedelta, status: str = "booked", session_status: str = "open", patient=None
):
    """A booking of a one-time session that started `ago` (ten minutes long), in a department of its own
    (the real-name rule allows one active booking per department and day)."""
    dept = await orgf.department(session)
    doc = await orgf.practitioner(session, department=dept, campuses=[w.main])
    cs, (slot,) = await sf.session_with_slots(
        session,
        practitioner=doc,
        department=dept,
        campus=w.main,
        slots=1,
        starts_in=-ago,
        status=session_status,
    )
    return await sf.booking(
        session, cs=cs, slot=slot, patient=patient or w.me, account=w.me_acct, status=status
    )


async def status_of(session, booking) -> str:
    return await session.scalar(
        select(Booking.status).where(Booking.id == booking.id).execution_options(populate_existing=True)
    )


async def book(client, headers, slot, patient=None):
    body = {"slot_id": str(slot.id)} | ({"patient_id": str(patient.id)} if patient else {})
    return await client.post(
        f"{API}/bookings", headers={**headers, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}, json=body
    )


async def test_bookings_nobody_came_to_become_no_shows_after_the_grace(session, world):
    grace = get_settings().no_show_grace_minutes
    gone = await missed(session, world, ago=dt.timedelta(hours=3))
    # its ten minutes ended grace-15 minutes ago
    just_ended = await missed(session, world, ago=dt.timedelta(minutes=grace - 5))
    arrived = await missed(session, world, ago=dt.timedelta(hours=4), status="checked_in")
    stopped = await missed(session, world, ago=dt.timedelta(hours=5), session_status="stopped")
    await session.commit()
    assert await no_shows.mark_no_shows(session, clock.now()) == 1
    await session.commit()
    assert [await status_of(session, b) for b in (gone, just_ended, arrived, stopped)] == [
        "no_show",
        "booked",
        "checked_in",
        "booked",
    ]
    events = (
        await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "scheduling.booking_no_show")
        )
    ).all()
    assert [e["booking_id"] for e in events] == [str(gone.id)]
    assert await no_shows.mark_no_shows(session, clock.now()) == 0  # a booking is marked once
    assert await session.get(BookingSuspension, world.me.id) is None  # one no-show suspends nothing


async def test_three_no_shows_in_ninety_days_suspend_online_booking_only(client, session, world):
    await missed(session, world, ago=dt.timedelta(days=2))
    await missed(session, world, ago=dt.timedelta(days=30))
    await missed(session, world, ago=dt.timedelta(days=60))
    await session.commit()
    assert await no_shows.mark_no_shows(session, clock.now()) == 3
    await session.commit()
    suspension = await session.get(BookingSuspension, world.me.id)
    assert suspension is not None and suspension.no_shows == 3
    ends = suspension.ends_at
    assert abs(ends - (clock.now() - dt.timedelta(days=2) + dt.timedelta(days=30))) < dt.timedelta(
        minutes=1
    ), ends

    r = await book(client, world.h, world.slots[0])
    assert r.status_code == 403 and r.json()["code"] == "online_booking_suspended"
    assert f"在线预约已暂停至{holds.local(ends)}" in r.json()["message"]
    en = await client.post(
        f"{API}/bookings",
        json={"slot_id": str(world.slots[0].id)},
        headers={**world.h, "Idempotency-Key": f"k-{uuid.uuid4().hex}", "Accept-Language": "en"},
    )
    assert (
        en.status_code == 403
        and f"Online booking is suspended until {holds.local(ends)}" in en.json()["message"]
    )
    # a family proxy books online too
    by_proxy = await book(client, world.son_h, world.slots[0], patient=world.me)
    assert by_proxy.status_code == 403 and by_proxy.json()["code"] == "online_booking_suspended"
    # the son himself is not suspended
    assert (await book(client, world.son_h, world.slots[0])).status_code == 201
    assert (
        await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.patient_id == world.me.id, Booking.status == "booked")
        )
        == 0
    )
    at_desk = await book(client, world.desk, world.slots[1], patient=world.me)
    assert at_desk.status_code == 201 and at_desk.json()["channel"] == "desk"


async def test_a_suspended_patient_cannot_wait_online_and_may_book_again_when_it_ends(client, session, world):
    for slot in world.slots:  # full
        slot.booked = slot.capacity
    ends = clock.now() + dt.timedelta(minutes=1)
    await sf.suspension(session, patient=world.me, ends_at=ends)
    await session.commit()
    r = await client.post(f"{API}/waitlist", headers=world.h, json={"session_id": str(world.cs.id)})
    assert r.status_code == 403 and r.json()["code"] == "online_booking_suspended"
    clock.freeze(ends + dt.timedelta(seconds=1))
    try:
        r = await client.post(f"{API}/waitlist", headers=world.h, json={"session_id": str(world.cs.id)})
        assert r.status_code == 201, r.text
    finally:
        clock.freeze(None)


async def test_no_shows_outside_the_window_or_under_the_limit_suspend_nothing(session, world):
    await missed(session, world, ago=dt.timedelta(days=1))
    await missed(session, world, ago=dt.timedelta(days=10))
    await missed(session, world, ago=dt.timedelta(days=get_settings().no_show_window_days + 5))
    await session.commit()
    assert await no_shows.mark_no_shows(session, clock.now()) == 3
    assert await session.get(BookingSuspension, world.me.id) is None


async def test_the_rule_is_configurable(session, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "no_show_limit", 2)
    monkeypatch.setattr(get_settings(), "no_show_suspension_days", 7)
    await missed(session, world, ago=dt.timedelta(days=1))
    await missed(session, world, ago=dt.timedelta(days=3))
    await session.commit()
    assert await no_shows.mark_no_shows(session, clock.now()) == 2
    suspension = await session.get(BookingSuspension, world.me.id)
    assert suspension is not None
    assert abs(suspension.ends_at - (clock.now() + dt.timedelta(days=6))) < dt.timedelta(minutes=1)
    assert (
        await no_shows.suspended_until(session, patient_id=world.me.id, now=clock.now()) == suspension.ends_at
    )
