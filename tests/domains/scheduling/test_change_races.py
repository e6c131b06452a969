"""Stopping and moving a session racing an accept, a booking or a cancel (PostgreSQL row locks, real
commits; from a review): the stop wins and the accept is refused, a booking made during a move takes
the new day, a cancel and a stop take their locks in one order (no deadlock)."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from tests.locks import until_waiting_on_a_lock
from zhiyi.core import clock
from zhiyi.core.policy import Actor
from zhiyi.domains.scheduling import changes, holds, service, waitlist
from zhiyi.domains.scheduling.errors import SessionClosed
from zhiyi.domains.scheduling.models import Booking, ClinicSession, Slot


@pytest.fixture
async def w(live_app, backend):
    if backend.name != "postgresql":
        pytest.skip("row-lock interleaving: PostgreSQL")
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        dept = await orgf.department(s, code="IM")
        doc = await orgf.practitioner(s, department=dept, campuses=[campus])
        cs, slots = await sf.session_with_slots(
            s, practitioner=doc, department=dept, campus=campus, slots=2, starts_in=dt.timedelta(days=2)
        )
        p = await pf.patient(s, campus=campus, name="候补", phone="13600000001")
        acct = await accounts.account(s, username="pat", roles={"patient"}, patient=p)
        desk = await accounts.account(s, username="desk", roles={"registrar"}, campuses=[campus])
        await s.commit()
    return (
        live_app.db,
        cs,
        slots,
        p,
        Actor(acct.id, frozenset({"patient"}), patient_id=p.id),
        Actor(desk.id, frozenset({"registrar"}), campus_ids=frozenset({campus.id})),
    )


async def test_an_accept_racing_a_stop_is_refused(w):
    db, cs, slots, p, patient, desk = w
    async with db.sessionmaker() as s:  # the patient holds an offer of slot 0 (counted by the slot)
        e = await sf.waitlist_entry(s, cs=cs, patient=p, account=type("A", (), {"id": patient.account_id}))
        e.status, e.slot_id, e.offered_at = "offered", slots[0].id, clock.now()
        e.hold_expires_at = clock.now() + dt.timedelta(minutes=15)
        await s.execute(Slot.__table__.update().where(Slot.id == slots[0].id).values(booked=1))
        await s.commit()
        entry_id = e.id

    stopper = db.sessionmaker()
    s1 = await stopper.__aenter__()
    result = await changes.stop_session(s1, actor=desk, session_id=cs.id)  # not yet committed

    async def accept():
        async with db.sessionmaker() as s2:
            b = await waitlist.accept_offer(s2, actor=patient, entry_id=entry_id)
            await s2.commit()
            return b

    task = asyncio.create_task(accept())
    await until_waiting_on_a_lock(db)  # the accept waits for the stop's lock on the session
    assert not task.done()
    await s1.commit()
    await stopper.__aexit__(None, None, None)
    with pytest.raises(SessionClosed):
        await asyncio.wait_for(task, 10)
    assert result.session_id == cs.id
    async with db.sessionmaker() as s:
        assert (
            await s.scalar(select(Booking.id).where(Booking.session_id == cs.id, Booking.status == "booked"))
            is None
        )


async def test_a_booking_made_during_a_move_takes_the_new_day(w):
    db, cs, slots, p, patient, desk = w
    mover = db.sessionmaker()
    s1 = await mover.__aenter__()
    new_start = cs.starts_at + dt.timedelta(days=1)
    await changes.move_session(s1, actor=desk, session_id=cs.id, starts_at=new_start)  # not yet committed

    async def book():
        async with db.sessionmaker() as s2:
            b = await service.book_slot(s2, actor=patient, patient_id=p.id, slot_id=slots[1].id)
            await s2.commit()
            return b

    task = asyncio.create_task(book())
    await until_waiting_on_a_lock(db)  # the booking waits for the move's lock on the slot
    assert not task.done()
    await s1.commit()
    await mover.__aexit__(None, None, None)
    made = await asyncio.wait_for(task, 10)
    async with db.sessionmaker() as s:
        day = await s.scalar(select(ClinicSession.session_on).where(ClinicSession.id == cs.id))
        b = await s.scalar(select(Booking).where(Booking.id == made.id))
    assert b.session_on == day == made.session_on


async def test_a_cancel_and_a_stop_at_once_do_not_deadlock(w, monkeypatch):
    db, cs, slots, p, patient, desk = w
    async with db.sessionmaker() as s:
        b = await sf.booking(
            s,
            cs=cs,
            slot=slots[0],
            patient=p,
            account=type("A", (), {"id": patient.account_id}),
            status="booked",
        )
        await s.commit()
    real, cancel_holds_its_locks = holds.pass_place, asyncio.Event()

    async def pass_place_once_the_stop_waits(*a, **k):
        # the cancel holds the session's lock and the booking's; the stop starts now and must wait for them
        # (in the one order both take their locks: a deadlock would be found and one of them would fail)
        cancel_holds_its_locks.set()
        await until_waiting_on_a_lock(db)
        return await real(*a, **k)

    monkeypatch.setattr(holds, "pass_place", pass_place_once_the_stop_waits)

    async def cancel():
        async with db.sessionmaker() as s2:
            await service.cancel_booking(s2, actor=patient, booking_id=b.id)
            await s2.commit()

    async def stop():
        await cancel_holds_its_locks.wait()
        async with db.sessionmaker() as s1:
            await changes.stop_session(s1, actor=desk, session_id=cs.id)
            await s1.commit()

    results = await asyncio.gather(cancel(), stop(), return_exceptions=True)
    assert not any(isinstance(r, Exception) for r in results), results
