"""Waiting lists under concurrency, on a real database with its own connections and real commits:
cancellations at once, accepts racing expiries, joins racing cancellations, several sweeps at once.
Whatever the interleaving, a place is never given to two people, never oversold, and nobody waits
while a place of their session is on open sale."""

from __future__ import annotations

import asyncio
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
from zhiyi.core.outbox import OutboxEvent
from zhiyi.domains.scheduling import holds, no_shows
from zhiyi.domains.scheduling.models import ACTIVE_BOOKING, Booking, BookingSuspension, Slot, WaitlistEntry

API = "/api/v1/scheduling"


async def person(s, campus, n: int, tag: str):
    p = await pf.patient(s, campus=campus, name="候补", phone=f"136{n:08d}")
    acct = await accounts.account(s, username=f"{tag}{n}", roles={"patient"}, patient=p)
    return SimpleNamespace(p=p, acct=acct, h=await accounts.bearer(s, acct))


@pytest.fixture
async def full(live_app):
    """A full session of 4 one-place times booked by 4 patients, and 8 more patients."""
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        dept = await orgf.department(s, code="IM.CARD")
        doc = await orgf.practitioner(s, department=dept, campuses=[campus])
        cs, slots = await sf.session_with_slots(s, practitioner=doc, department=dept, campus=campus, slots=4)
        bookers = [await person(s, campus, i, "booker") for i in range(4)]
        bookings = [
            await sf.booking(s, cs=cs, slot=slot, patient=b.p, account=b.acct, status="booked")
            for slot, b in zip(slots, bookers, strict=True)
        ]
        others = [await person(s, campus, 100 + i, "waiter") for i in range(8)]
        await s.commit()
    return SimpleNamespace(
        db=live_app.db,
        client=live_app.client,
        campus=campus,
        dept=dept,
        doc=doc,
        cs=cs,
        slots=slots,
        bookers=bookers,
        bookings=bookings,
        others=others,
    )


async def line_up(w, waiters, *, offered_until: dt.datetime | None = None) -> list[WaitlistEntry]:
    """Put patients in line in this order; with `offered_until`, the first len(slots) hold its places."""
    start = clock.now() - dt.timedelta(minutes=30)
    async with w.db.sessionmaker() as s:
        made = [
            await sf.waitlist_entry(
                s, cs=w.cs, patient=x.p, account=x.acct, joined_at=start + dt.timedelta(seconds=i)
            )
            for i, x in enumerate(waiters)
        ]
        if offered_until is not None:
            for entry, slot in zip(made, w.slots, strict=False):
                entry.status, entry.slot_id, entry.offered_at, entry.hold_expires_at = (
                    "offered",
                    slot.id,
                    start,
                    offered_until,
                )
        await s.commit()
    return made


async def cancel(w, i: int):
    return await w.client.post(f"{API}/bookings/{w.bookings[i].id}/cancel", headers=w.bookers[i].h)


async def sweep(db, now: dt.datetime) -> int:
    async with db.sessionmaker() as s:
        n = await holds.expire_holds(s, now)
        await s.commit()
        return n


async def check(db, cs) -> dict[str, int]:
    """The invariants; returns the entries by status."""
    async with db.sessionmaker() as s:
        slots = (
            await s.execute(select(Slot.id, Slot.booked, Slot.capacity).where(Slot.session_id == cs.id))
        ).all()
        active = dict(
            (
                await s.execute(
                    select(Booking.slot_id, func.count())
                    .where(Booking.status.in_(ACTIVE_BOOKING))
                    .group_by(Booking.slot_id)
                )
            ).all()
        )
        offers = dict(
            (
                await s.execute(
                    select(WaitlistEntry.slot_id, func.count())
                    .where(WaitlistEntry.status == "offered")
                    .group_by(WaitlistEntry.slot_id)
                )
            ).all()
        )
        for slot_id, booked, capacity in slots:
            # every counted place is a booking or a hold, never both, never over capacity
            assert booked == active.get(slot_id, 0) + offers.get(slot_id, 0) <= capacity, (
                booked,
                active,
                offers,
            )
        statuses = dict(
            (
                await s.execute(
                    select(WaitlistEntry.status, func.count())
                    .where(WaitlistEntry.session_id == cs.id)
                    .group_by(WaitlistEntry.status)
                )
            ).all()
        )
        free = sum(1 for _, booked, capacity in slots if booked < capacity)
        if statuses.get("waiting"):
            assert free == 0, "a patient waits while a place is on open sale"
        per_patient = (
            await s.execute(
                select(WaitlistEntry.patient_id, func.count())
                .where(WaitlistEntry.session_id == cs.id, WaitlistEntry.status.in_(("waiting", "offered")))
                .group_by(WaitlistEntry.patient_id)
            )
        ).all()
        assert all(n == 1 for _, n in per_patient)
        doubled = (
            await s.execute(
                select(Booking.patient_id, func.count())
                .where(Booking.session_id == cs.id, Booking.status.in_(ACTIVE_BOOKING))
                .group_by(Booking.patient_id)
            )
        ).all()
        assert all(n == 1 for _, n in doubled)
    return statuses


async def test_cancellations_at_once_offer_each_place_to_a_different_patient(full):
    w = full
    await line_up(w, w.others[:6])
    results = await asyncio.gather(*[cancel(w, i) for i in range(4)])
    assert [r.status_code for r in results] == [200] * 4
    statuses = await check(w.db, w.cs)
    assert statuses == {"offered": 4, "waiting": 2}
    async with w.db.sessionmaker() as s:
        offered = (
            await s.scalars(select(WaitlistEntry.patient_id).where(WaitlistEntry.status == "offered"))
        ).all()
    assert set(offered) == {x.p.id for x in w.others[:4]}  # the first four in line, in order


async def test_accepts_racing_expiries_give_each_place_once(full):
    w = full
    async with w.db.sessionmaker() as s:  # the four places are free again and held for the first four in line
        await s.execute(
            Booking.__table__.update()
            .where(Booking.id.in_([b.id for b in w.bookings]))
            .values(status="cancelled")
        )
        await s.commit()
    entries = await line_up(w, w.others, offered_until=clock.now() + dt.timedelta(minutes=10))
    later = clock.now() + dt.timedelta(hours=1)  # what a sweep whose clock says the holds ran out sees

    async def accept(entry, waiter):
        return await w.client.post(
            f"{API}/waitlist/{entry.id}/accept",
            headers={**waiter.h, "Idempotency-Key": f"a-{uuid.uuid4().hex}"},
        )

    results = await asyncio.gather(
        *[accept(e, x) for e, x in zip(entries[:4], w.others[:4], strict=True)],
        *[sweep(w.db, later) for _ in range(3)],
    )
    answers, swept = results[:4], results[4:]
    assert all(r.status_code in (201, 409) for r in answers), [r.text for r in answers]
    async with w.db.sessionmaker() as s:
        by_id = {e.id: e for e in (await s.scalars(select(WaitlistEntry))).all()}
        bookings = (await s.scalars(select(Booking).where(Booking.status == "booked"))).all()
    for entry, r in zip(entries[:4], answers, strict=True):
        final = by_id[entry.id]
        if r.status_code == 201:
            assert final.status == "booked" and str(final.booking_id) == r.json()["id"]
        else:
            assert r.json()["code"] == "offer_not_open" and final.status == "expired"
    assert sum(swept) == sum(1 for r in answers if r.status_code == 409)  # every expiry counted once
    assert len(bookings) == sum(1 for r in answers if r.status_code == 201)
    statuses = await check(w.db, w.cs)
    expired = statuses.get("expired", 0)
    assert statuses.get("offered", 0) == expired  # each expired place went to exactly one next patient


async def test_joins_racing_cancellations_never_leave_a_patient_waiting_beside_a_free_place(full):
    w = full

    async def join(x):
        return await w.client.post(f"{API}/waitlist", headers=x.h, json={"session_id": str(w.cs.id)})

    results = await asyncio.gather(*[join(x) for x in w.others], *[cancel(w, i) for i in range(4)])
    joins, cancels = results[:8], results[8:]
    assert [r.status_code for r in cancels] == [200] * 4
    assert all(
        (r.status_code, r.json().get("code")) in ((201, None), (409, "places_available")) for r in joins
    )
    statuses = await check(w.db, w.cs)
    joined = sum(1 for r in joins if r.status_code == 201)
    assert sum(statuses.values()) == joined


async def test_a_double_tapped_join_waits_once(full):
    w = full
    x = w.others[0]
    results = await asyncio.gather(
        *[w.client.post(f"{API}/waitlist", headers=x.h, json={"session_id": str(w.cs.id)}) for _ in range(5)]
    )
    assert sorted(r.status_code for r in results) == [201] + [409] * 4
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"already_waiting"}
    await check(w.db, w.cs)


async def test_sweeps_in_several_processes_expire_each_hold_once(full):
    w = full
    async with w.db.sessionmaker() as s:
        await s.execute(
            Booking.__table__.update()
            .where(Booking.id.in_([b.id for b in w.bookings]))
            .values(status="cancelled")
        )
        await s.commit()
    await line_up(w, w.others, offered_until=clock.now() - dt.timedelta(minutes=1))  # four holds ran out
    now = clock.now()
    counts = await asyncio.gather(*[sweep(w.db, now) for _ in range(4)])
    assert sum(counts) == 4
    statuses = await check(w.db, w.cs)
    assert statuses == {"expired": 4, "offered": 4}
    async with w.db.sessionmaker() as s:
        closed = await s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == "scheduling.offer_closed")
        )
        offered = await s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == "scheduling.place_offered")
        )
    assert (closed, offered) == (4, 4)


async def test_no_shows_marked_by_several_workers_at_once_count_once_and_suspend(live_app):
    db = live_app.db
    async with db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        me = await person(s, campus, 1, "ns")
        made = []
        for days in (1, 5, 9):
            dept = await orgf.department(s)
            doc = await orgf.practitioner(s, department=dept, campuses=[campus])
            cs, (slot,) = await sf.session_with_slots(
                s,
                practitioner=doc,
                department=dept,
                campus=campus,
                slots=1,
                starts_in=-dt.timedelta(days=days),
            )
            made.append(await sf.booking(s, cs=cs, slot=slot, patient=me.p, account=me.acct, status="booked"))
        await s.commit()

    async def run(now):
        async with db.sessionmaker() as s:
            n = await no_shows.mark_no_shows(s, now)
            await s.commit()
            return n

    # workers whose sweeps see different bookings (one, two, all three): whichever marks last counts all three
    now = clock.now()
    runs = [run(now - dt.timedelta(days=8)), run(now - dt.timedelta(days=4)), run(now), run(now)]
    assert sum(await asyncio.gather(*runs)) == 3
    async with db.sessionmaker() as s:
        assert (
            await s.scalar(select(func.count()).select_from(Booking).where(Booking.status == "no_show")) == 3
        )
        assert await s.get(BookingSuspension, me.p.id) is not None  # the third no-show saw the other two
        events = await s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == "scheduling.booking_no_show")
        )
    assert events == 3


async def test_sweeps_holding_places_for_the_line_race_open_sale_without_overselling(full):
    """Places put straight back on sale beside a waiting line: sweeps in several processes and
    patients booking those places at the same moment; each place goes to exactly one of them."""
    w = full
    async with w.db.sessionmaker() as s:
        await s.execute(
            Booking.__table__.update()
            .where(Booking.id.in_([b.id for b in w.bookings]))
            .values(status="cancelled")
        )
        await s.execute(Slot.__table__.update().where(Slot.session_id == w.cs.id).values(booked=0))
        buyers = [await person(s, w.campus, 200 + i, "buyer") for i in range(4)]
        await s.commit()
    await line_up(w, w.others)

    async def fill_sweep():
        async with w.db.sessionmaker() as s:
            n = await holds.fill_free_places(s, clock.now())
            await s.commit()
            return n

    async def buy(x, slot):
        return await w.client.post(
            f"{API}/bookings",
            headers={**x.h, "Idempotency-Key": f"b-{uuid.uuid4().hex}"},
            json={"slot_id": str(slot.id)},
        )

    results = await asyncio.gather(
        *[fill_sweep() for _ in range(4)], *[buy(x, slot) for x, slot in zip(buyers, w.slots, strict=True)]
    )
    offered, bought = sum(results[:4]), sum(1 for r in results[4:] if r.status_code == 201)
    assert all(r.status_code in (201, 409) for r in results[4:])
    assert offered + bought == 4
    statuses = await check(w.db, w.cs)
    assert statuses.get("offered", 0) == offered and statuses.get("waiting", 0) == 8 - offered
