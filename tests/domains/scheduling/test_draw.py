"""Rush fairness: the release draw and the per-account rate limit (docs/booking.md, scheduling/draw.py).

Requests in the first seconds after a release are served in the order of each patient's ticket,
not in the order they arrived; sending more requests does not add tickets; retries with the same
key wait for the one answer. Run against a real app with real commits (the draw commits the entry
before waiting)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, update

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.config import get_settings
from zhiyi.core.errors import TooManyRequests
from zhiyi.core.ratelimit import Limiter
from zhiyi.domains.scheduling import draw
from zhiyi.domains.scheduling.models import Booking, DrawEntry, Slot

N = 8
URL = "/api/v1/scheduling/bookings"


@pytest.fixture
async def release(live_app, monkeypatch):
    """Eight patients and a clinic whose three places are released right now, with a draw of 1 s
    whose requests are served over 1.6 s."""
    monkeypatch.setattr(get_settings(), "release_draw_seconds", 1.0)
    monkeypatch.setattr(get_settings(), "release_draw_spread_seconds", 1.6)
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        dept = await orgf.department(s, code="EYE")
        doc = await orgf.practitioner(s, department=dept, campuses=[campus], title="chief")
        cs, slots = await sf.session_with_slots(
            s,
            practitioner=doc,
            department=dept,
            campus=campus,
            slots=1,
            capacity=3,
            starts_in=dt.timedelta(days=7),
        )
        people, heads = [], []
        for i in range(N):
            p = await pf.patient(s, campus=campus, name="抽签", phone=f"136{i:08d}")
            acct = await accounts.account(s, username=f"draw{i}", roles={"patient"}, patient=p)
            people.append(p)
            heads.append(await accounts.bearer(s, acct))
        cs.release_at = clock.now()  # released this instant: the draw's window is open
        await s.commit()
    return live_app, cs, slots[0], people, heads


async def book(client, headers, slot, key=None):
    return await client.post(
        URL, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex}, json={"slot_id": str(slot.id)}
    )


def test_tickets_are_fixed_per_patient_and_release_and_spread_evenly():
    at = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
    someone = uuid.uuid4()
    assert draw.ticket(someone, at) == draw.ticket(someone, at)  # asking again draws nothing new
    assert draw.ticket(someone, at) != draw.ticket(someone, at + dt.timedelta(days=1))
    tickets = [draw.ticket(uuid.uuid4(), at) for _ in range(2000)]
    assert all(0 <= t < 1 for t in tickets)
    assert 0.45 < sum(tickets) / len(tickets) < 0.55
    assert sum(t < 0.25 for t in tickets) in range(400, 600)  # each quarter gets about a quarter


async def test_the_draw_not_the_arrival_decides(release, monkeypatch):
    app, cs, slot, people, heads = release
    # tickets opposite to the order of arrival: the last to arrive hold the lowest tickets
    order = {p.id: (N - i) / (N + 1) for i, p in enumerate(people)}
    monkeypatch.setattr(draw, "ticket", lambda patient_id, _at: order[patient_id])
    # a wide window: on a busy machine all eight requests must still arrive inside it (they take ~0.3 s)
    monkeypatch.setattr(get_settings(), "release_draw_seconds", 4.0)
    monkeypatch.setattr(get_settings(), "release_draw_spread_seconds", 0.5)

    async def arrive(i):
        await asyncio.sleep(0.04 * i)  # patient 0 first, patient 7 last, all inside the window
        return await book(app.client, heads[i], slot)

    results = await asyncio.gather(*(arrive(i) for i in range(N)))
    won = {i for i, r in enumerate(results) if r.status_code == 201}
    assert won == {N - 1, N - 2, N - 3}, [r.status_code for r in results]
    assert all(r.json()["code"] == "slot_full" for i, r in enumerate(results) if i not in won)
    pos = await app.client.get(f"/api/v1/scheduling/draws/{cs.id}/position", headers=heads[N - 1])
    assert pos.status_code == 200 and pos.json() == {"position": 1, "entries": N}


async def test_hammering_adds_no_tickets_and_a_retried_key_gets_the_one_answer(release, monkeypatch):
    app, cs, slot, people, heads = release
    # a wide window: on a busy machine all eight requests must still arrive inside it
    monkeypatch.setattr(get_settings(), "release_draw_seconds", 4.0)
    monkeypatch.setattr(get_settings(), "release_draw_spread_seconds", 0.5)
    key = uuid.uuid4().hex
    first = asyncio.create_task(book(app.client, heads[0], slot, key))  # enters the draw and waits
    for _ in range(100):  # until its ticket is in
        async with app.db.sessionmaker() as s:
            if await s.scalar(select(func.count()).select_from(DrawEntry)):
                break
        await asyncio.sleep(0.02)
    # while it waits, the same patient hammers: the same key again, and new keys
    same_key = [book(app.client, heads[0], slot, key) for _ in range(3)]
    other_keys = [book(app.client, heads[0], slot) for _ in range(5)]
    results = await asyncio.gather(first, *same_key, *other_keys)
    answers, rest = results[:4], results[4:]
    assert all(r.status_code == 201 for r in answers) and len({r.json()["id"] for r in answers}) == 1
    assert [r.status_code for r in rest] == [409] * 5
    assert {r.json()["code"] for r in rest} == {"already_in_draw"}
    async with app.db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(DrawEntry)) == 1
        assert await s.scalar(select(func.count()).select_from(Booking)) == 1


async def test_after_the_window_it_is_first_come_first_served_again(release, monkeypatch):
    app, cs, slot, people, heads = release
    monkeypatch.setattr(get_settings(), "release_draw_seconds", 0.0)
    r = await book(app.client, heads[0], slot)
    assert r.status_code == 201
    async with app.db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(DrawEntry)) == 0
    assert (
        await app.client.get(f"/api/v1/scheduling/draws/{cs.id}/position", headers=heads[0])
    ).status_code == 404


async def test_only_the_patient_or_family_may_ask_a_place_in_the_draw(release):
    app, cs, slot, people, heads = release
    r = await app.client.get(
        f"/api/v1/scheduling/draws/{cs.id}/position",
        headers=heads[1],
        params={"patient_id": str(people[0].id)},
    )
    assert r.status_code in (403, 404)


def test_the_limiter_counts_a_sliding_minute():
    limit = Limiter(3, 60)
    for t in (0, 1, 2):
        limit.hit("a", now=t)
    with pytest.raises(TooManyRequests) as refused:
        limit.hit("a", now=30)
    assert refused.value.headers["Retry-After"] == "31"
    limit.hit("b", now=30)  # others are not affected
    limit.hit("a", now=60.5)  # the first request has left the window


async def test_a_patient_hammering_the_booking_endpoint_is_slowed_down(client, session, monkeypatch):
    monkeypatch.setattr(draw, "_booking_limit", Limiter(3, 60))
    campus = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=campus, phone="13500000001")
    acct = await accounts.account(session, username="hammer", roles={"patient"}, patient=p)
    desk = await accounts.account(session, username="desk", roles={"registrar"}, campuses=[campus])
    await session.commit()
    h, d = await accounts.bearer(session, acct), await accounts.bearer(session, desk)
    body = {"slot_id": str(uuid.uuid4())}
    codes = [
        (await client.post(URL, headers={**h, "Idempotency-Key": uuid.uuid4().hex}, json=body)).status_code
        for _ in range(4)
    ]
    assert codes == [404, 404, 404, 429]
    refused = await client.post(URL, headers={**h, "Idempotency-Key": uuid.uuid4().hex}, json=body)
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["retry-after"]) > 0
    desk_codes = {
        (
            await client.post(
                URL,
                headers={**d, "Idempotency-Key": uuid.uuid4().hex},
                json={**body, "patient_id": str(p.id)},
            )
        ).status_code
        for _ in range(5)
    }
    assert 429 not in desk_codes  # desks and phone agents book for many people


async def after_the_window(cs) -> None:
    """Until just after the release's draw window closed (by the release instant, not by when the test
    happened to start)."""
    ends = cs.release_at + dt.timedelta(seconds=get_settings().release_draw_seconds + 0.05)
    await asyncio.sleep(max(0.0, (ends - clock.now()).total_seconds()))


async def in_the_draw(app, count: int = 1) -> None:
    """Until `count` tickets are in (a request has entered the draw and waits its turn)."""
    for _ in range(500):
        async with app.db.sessionmaker() as s:
            if await s.scalar(select(func.count()).select_from(DrawEntry)) >= count:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody entered the draw")


async def one_place(app, slot) -> None:
    async with app.db.sessionmaker() as s:
        await s.execute(update(Slot).where(Slot.id == slot.id).values(capacity=1))
        await s.commit()


async def test_asking_just_after_the_window_overtakes_nobody_in_the_draw(release, monkeypatch):
    app, cs, slot, people, heads = release
    await one_place(app, slot)
    monkeypatch.setattr(draw, "ticket", lambda _p, _at: 0.5)  # served at 1.0 + 0.5 x 1.6 = 1.8 s

    async def after_window():
        await in_the_draw(app)
        await after_the_window(cs)
        return await book(app.client, heads[1], slot)

    drawn, late = await asyncio.gather(book(app.client, heads[0], slot), after_window())
    assert drawn.status_code == 201 and late.status_code == 409


async def test_a_bad_ticket_gains_nothing_by_asking_again_after_the_window(release, monkeypatch):
    app, cs, slot, people, heads = release
    await one_place(app, slot)
    monkeypatch.setattr(draw, "ticket", lambda p, _at: 0.2 if p == people[0].id else 0.95)

    async def bad_twice():
        first = asyncio.create_task(book(app.client, heads[1], slot))  # in the draw, ticket 0.95
        await in_the_draw(app, 2)
        await after_the_window(cs)
        second = await book(app.client, heads[1], slot)  # a new key, after the window
        return await first, second

    good, (first, second) = await asyncio.gather(book(app.client, heads[0], slot), bad_twice())
    assert good.status_code == 201 and first.status_code == 409 and second.status_code == 409
