"""A registration rush in miniature, on a real database with its own connections (not timed):
200 concurrent attempts at a 10-place slot book exactly 10; retried keys never double-book."""

from __future__ import annotations

import asyncio
import uuid

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
async def rush(live_app):
    db, client = live_app.db, live_app.client
    async with db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        dept = await orgf.department(s, code="IM.CARD")
        doc = await orgf.practitioner(s, department=dept, campuses=[campus])
        _, (ten, fifty) = await sf.session_with_slots(
            s, practitioner=doc, department=dept, campus=campus, slots=2, capacity=10
        )
        fifty.capacity = 50
        # another department (the real-name rule is per department and day): 20 times of one place each
        other = await orgf.department(s, code="SURG")
        doc2 = await orgf.practitioner(s, department=other, campuses=[campus])
        by_session, _ = await sf.session_with_slots(
            s, practitioner=doc2, department=other, campus=campus, slots=20
        )
        headers = []
        for i in range(200):
            p = await pf.patient(s, campus=campus, name="抢号", phone=f"137{i:08d}")
            acct = await accounts.account(s, username=f"rush{i}", roles={"patient"}, patient=p)
            headers.append(await accounts.bearer(s, acct))
        await s.commit()
    client.session_20 = by_session
    return db, client, headers, ten, fifty


async def post(client, headers, slot, key):
    return await client.post(
        "/api/v1/scheduling/bookings",
        headers={**headers, "Idempotency-Key": key},
        json={"slot_id": str(slot.id)},
    )


async def test_200_concurrent_attempts_at_10_places_book_exactly_10(rush):
    db, client, headers, ten, _ = rush
    results = await asyncio.gather(*[post(client, h, ten, f"rush-{uuid.uuid4().hex}") for h in headers])
    codes = [r.status_code for r in results]
    assert codes.count(201) == 10 and codes.count(409) == 190, sorted(set(codes))
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"slot_full"}
    async with db.sessionmaker() as s:
        assert (
            await s.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == ten.id)) == 10
        )
        assert await s.scalar(select(Slot.booked).where(Slot.id == ten.id)) == 10
    confirmed = {r.json()["id"] for r in results if r.status_code == 201}
    async with db.sessionmaker() as s:
        stored = set(map(str, (await s.scalars(select(Booking.id))).all()))
    assert confirmed == stored  # nothing lost, nothing phantom


async def test_retried_keys_never_double_book(rush):
    db, client, headers, _, fifty = rush
    patients = headers[:30]
    keys = [f"retry-{uuid.uuid4().hex}" for _ in patients]
    # every patient sends the same request three times at once (a impatient thumb, a flaky network)
    attempts = [post(client, h, fifty, k) for h, k in zip(patients, keys, strict=True) for _ in range(3)]
    results = await asyncio.gather(*attempts)
    by_key: dict[str, set] = {}
    for k, r in zip([k for k in keys for _ in range(3)], results, strict=True):
        assert r.status_code == 201, r.text
        by_key.setdefault(k, set()).add(r.json()["id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # every retry answered with the original booking
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 30
        assert await s.scalar(select(Slot.booked).where(Slot.id == fifty.id)) == 30


async def test_booking_by_session_sells_every_place_once_and_never_says_full_too_early(rush):
    db, client, headers, _, _ = rush
    sid = str(client.session_20.id)

    async def take(h):
        return await client.post(
            "/api/v1/scheduling/bookings",
            headers={**h, "Idempotency-Key": f"s-{uuid.uuid4().hex}"},
            json={"session_id": sid},
        )

    results = await asyncio.gather(*[take(h) for h in headers[:60]])
    codes = [r.status_code for r in results]
    assert codes.count(201) == 20 and codes.count(409) == 40
    slots = [r.json()["slot_id"] for r in results if r.status_code == 201]
    assert len(set(slots)) == 20  # each time sold once
    async with db.sessionmaker() as s:
        free = await s.scalar(
            select(func.count())
            .select_from(Slot)
            .where(Slot.session_id == client.session_20.id, Slot.booked < Slot.capacity)
        )
    assert free == 0  # every "full" answer was true: nothing left unsold


async def test_concurrent_cancels_of_one_booking_give_the_place_back_once(rush):
    db, client, headers, ten, _ = rush
    made = [await post(client, h, ten, f"c-{uuid.uuid4().hex}") for h in headers[:2]]
    booking = made[0].json()["id"]
    results = await asyncio.gather(
        *[client.post(f"/api/v1/scheduling/bookings/{booking}/cancel", headers=headers[0]) for _ in range(6)]
    )
    assert sorted(r.status_code for r in results) == [200] + [409] * 5
    async with db.sessionmaker() as s:
        assert await s.scalar(select(Slot.booked).where(Slot.id == ten.id)) == 1  # one active booking left
