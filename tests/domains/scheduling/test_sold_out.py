"""The short answer for sessions seen sold out (scheduling/sold_out.py), on a real database with its
own connections: it answers "full" only when the database agrees, keeps nothing, replays a key that
booked, waits for a request with the same key still being answered, and steps aside when a place
comes back or the session changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.idempotency import IdempotencyRecord, request_hash
from zhiyi.core.policy import Actor
from zhiyi.domains.scheduling import changes, sold_out
from zhiyi.domains.scheduling.models import Booking
from zhiyi.domains.scheduling.schemas import BookingCreate

BOOKINGS = "/api/v1/scheduling/bookings"


@pytest.fixture
async def full(live_app, backend):
    """A one-place session (starts in two days) booked by a first patient, and three more patients."""
    db, client = live_app.db, live_app.client
    async with db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        dept = await orgf.department(s, code="IM.CARD")
        doc = await orgf.practitioner(s, department=dept, campuses=[campus])
        cs, _ = await sf.session_with_slots(s, practitioner=doc, department=dept, campus=campus, slots=1,
                                            starts_in=dt.timedelta(days=2))
        people, headers = [], []
        for i in range(4):
            p = await pf.patient(s, campus=campus, name="满号", phone=f"136{i:08d}")
            acct = await accounts.account(s, username=f"sold{i}", roles={"patient"}, patient=p)
            people.append((p, acct))
            headers.append(await accounts.bearer(s, acct))
        desk = await accounts.account(s, username="desk", roles={"registrar"}, campuses=[campus])
        await s.commit()
    first = await book(client, headers[0], cs.id, key=f"first-{uuid.uuid4().hex}")
    assert first.status_code == 201, first.text
    yield db, client, cs, people, headers, first, Actor(desk.id, frozenset({"registrar"}), campus_ids=frozenset({campus.id}))
    sold_out.forget(cs.id)


async def book(client, headers, session_id, *, key: str | None = None):
    return await client.post(BOOKINGS, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
                             json={"session_id": str(session_id)})


async def count(db, model, *where) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_sold_out_session_is_noted_and_then_answered_full_the_short_way_leaving_nothing(full, backend,
                                                                                             monkeypatch):
    db, client, cs, people, headers, _, _ = full
    answers = []

    async def spy(*args, **kwargs):
        answers.append(await short_way(*args, **kwargs))
        return answers[-1]

    short_way = sold_out.refuse
    monkeypatch.setattr(sold_out, "refuse", spy)
    assert not sold_out.noted(cs.id)
    first_full = await book(client, headers[1], cs.id)  # the usual way finds it sold out and notes it
    assert first_full.status_code == 409 and first_full.json()["code"] == "slot_full"
    assert sold_out.noted(cs.id)
    account_id = people[2][1].id
    async with db.sessionmaker() as s:  # nothing begun on it yet, as at the start of a booking request
        short = await short_way(s, account_id=account_id, key="short-key-1", request={"op": "book"},
                                session_id=cs.id, now=clock.now())
    assert short is (backend.name == "postgresql")  # SQLite always goes the usual way
    async with db.sessionmaker() as s:
        await s.execute(text("SELECT 1"))  # a transaction already begun keeps to the usual way
        assert await short_way(s, account_id=account_id, key="short-key-3", request={"op": "book"},
                               session_id=cs.id, now=clock.now()) is False
    again = await book(client, headers[2], cs.id, key="short-key-2")
    assert again.status_code == 409 and again.json()["code"] == "slot_full"
    # the page's booking took the short way (the release draw, on in tests, did not stand in its way)
    assert answers == [False, backend.name == "postgresql"]
    assert await count(db, IdempotencyRecord, IdempotencyRecord.key.in_(["short-key-1", "short-key-2", "short-key-3"])) == 0
    assert await count(db, Booking) == 1


async def test_a_retried_key_that_booked_is_replayed_not_told_full(full):
    db, client, cs, _, headers, first, _ = full
    await book(client, headers[1], cs.id)  # noted sold out (by the first patient's own booking)
    assert sold_out.noted(cs.id)
    retry = await book(client, headers[0], cs.id, key=first.request.headers["Idempotency-Key"])
    assert retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert await count(db, Booking) == 1


async def test_a_request_with_the_same_key_still_being_answered_is_waited_for(full, backend):
    if backend.name != "postgresql":
        pytest.skip("row-lock interleaving: PostgreSQL")
    db, client, cs, people, headers, _, _ = full
    await book(client, headers[1], cs.id)
    assert sold_out.noted(cs.id)
    key, account = "in-flight-key", people[2][1]
    # another worker is answering this key and has not committed yet (it will say "booked")
    other = db.sessionmaker()
    s1 = await other.__aenter__()
    asked = {"op": "book", **BookingCreate(session_id=cs.id).model_dump(mode="json"), "patient_id": str(people[2][0].id)}
    await s1.execute(text("INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, created_at) "
                          "VALUES (:a, :k, :h, 201, CAST(:r AS json), now())"),
                     {"a": account.id, "k": key, "h": request_hash(asked), "r": '{"id": "answered-elsewhere"}'})
    retry = asyncio.create_task(book(client, headers[2], cs.id, key=key))
    await asyncio.sleep(0.5)
    assert not retry.done()  # waiting on the key, not answered "full"
    await s1.commit()
    await other.__aexit__(None, None, None)
    answer = await asyncio.wait_for(retry, 10)
    assert answer.status_code == 201 and answer.json() == {"id": "answered-elsewhere"}


async def test_a_place_given_back_is_booked_not_refused(full):
    db, client, cs, _, headers, first, _ = full
    await book(client, headers[1], cs.id)
    assert sold_out.noted(cs.id)
    cancelled = await client.post(f"{BOOKINGS}/{first.json()['id']}/cancel", headers=headers[0])
    assert cancelled.status_code == 200, cancelled.text
    taken = await book(client, headers[2], cs.id)
    assert taken.status_code == 201, taken.text
    assert await count(db, Booking, Booking.status == "booked") == 1


async def test_a_stopped_session_says_stopped_not_full(full):
    db, client, cs, _, headers, _, desk = full
    await book(client, headers[1], cs.id)
    assert sold_out.noted(cs.id)
    async with db.sessionmaker() as s:
        await changes.stop_session(s, actor=desk, session_id=cs.id)
        await s.commit()
    answer = await book(client, headers[2], cs.id)
    assert answer.status_code == 409 and answer.json()["code"] == "session_closed"


async def test_a_booking_for_someone_else_goes_the_usual_way(full):
    db, client, cs, people, headers, _, _ = full
    await book(client, headers[1], cs.id)
    assert sold_out.noted(cs.id)
    stranger = people[3][0]
    answer = await client.post(BOOKINGS, headers={**headers[2], "Idempotency-Key": uuid.uuid4().hex},
                               json={"session_id": str(cs.id), "patient_id": str(stranger.id)})
    assert answer.status_code == 403  # whom one may book for is checked first, even when it is full

