"""The short answer for sessions seen sold out (scheduling/sold_out.py), on a real database with its
own connections: it answers "full" only when the database agrees, keeps nothing, replays a key that
booked, waits for a request with the same key still being answered, and steps aside when a place
comes back or the session changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from tests.locks import until_waiting_on_a_lock
from zhiyi.core import clock
from zhiyi.core.idempotency import IdempotencyRecord, request_hash
from zhiyi.core.policy import Actor
from zhiyi.core.ratelimit import Limiter
from zhiyi.domains.org.models import Campus, Department
from zhiyi.domains.scheduling import changes, draw
from zhiyi.domains.scheduling.models import Booking, BookingSuspension
from zhiyi.domains.scheduling.rush import sold_out
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
        cs, _ = await sf.session_with_slots(
            s, practitioner=doc, department=dept, campus=campus, slots=1, starts_in=dt.timedelta(days=2)
        )
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
    yield (
        db,
        client,
        cs,
        people,
        headers,
        first,
        Actor(desk.id, frozenset({"registrar"}), campus_ids=frozenset({campus.id})),
    )
    sold_out.forget(cs.id)


@pytest.fixture
def short_answers(monkeypatch):
    """The short question's answers in this test (a spy on sold_out.answer), and the real function."""
    answers = []
    short_way = sold_out.answer

    async def spy(*args, **kwargs):
        answers.append(await short_way(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(sold_out, "answer", spy)
    return answers, short_way


async def book(client, headers, session_id, *, key: str | None = None):
    return await client.post(
        BOOKINGS,
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
        json={"session_id": str(session_id)},
    )


async def count(db, model, *where) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_sold_out_session_is_noted_and_then_answered_full_the_short_way_leaving_nothing(
    full, backend, short_answers
):
    db, client, cs, people, headers, _, _ = full
    answers, short_way = short_answers
    assert not sold_out.noted(cs.id)
    first_full = await book(client, headers[1], cs.id)  # the usual way finds it sold out and notes it
    assert first_full.status_code == 409 and first_full.json()["code"] == "slot_full"
    assert sold_out.noted(cs.id)
    patient, account = people[2]
    short = await short_way(
        db.engine,
        account_id=account.id,
        patient_id=patient.id,
        key="short-key-1",
        request={"op": "book"},
        session_id=cs.id,
        now=clock.now(),
    )
    assert short == ("full" if backend.name == "postgresql" else None)  # SQLite always goes the usual way
    again = await book(client, headers[2], cs.id, key="short-key-2")
    assert again.status_code == 409 and again.json()["code"] == "slot_full"
    # the API's booking took the short way in the rush lane (the release draw, on in tests, did not
    # stand in its way); SQLite has no lane
    assert answers == (["full"] if backend.name == "postgresql" else [])
    assert await count(db, IdempotencyRecord, IdempotencyRecord.key.in_(["short-key-1", "short-key-2"])) == 0
    assert await count(db, Booking) == 1


async def test_a_retried_key_that_booked_is_replayed_not_told_full(full, backend, short_answers):
    db, client, cs, _, headers, first, _ = full
    answers, _ = short_answers
    await book(client, headers[1], cs.id)  # noted sold out (by the first patient's own booking)
    assert sold_out.noted(cs.id)
    retry = await book(client, headers[0], cs.id, key=first.request.headers["Idempotency-Key"])
    assert retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json()["id"] == first.json()["id"]
    # on PostgreSQL the short question itself replays it (migration 0013), not the route after it
    assert answers[-1:] == (
        [sold_out.Booked(first.json(), replayed=True)] if backend.name == "postgresql" else []
    )
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
    asked = BookingCreate(session_id=cs.id).fingerprint(people[2][0].id)
    await s1.execute(
        text(
            "INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, "
            "created_at) VALUES (:a, :k, :h, 201, CAST(:r AS json), now())"
        ),
        {"a": account.id, "k": key, "h": request_hash(asked), "r": '{"id": "answered-elsewhere"}'},
    )
    retry = asyncio.create_task(book(client, headers[2], cs.id, key=key))
    await until_waiting_on_a_lock(db)  # the retry waits for the key the other worker holds
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
    answer = await client.post(
        BOOKINGS,
        headers={**headers[2], "Idempotency-Key": uuid.uuid4().hex},
        json={"session_id": str(cs.id), "patient_id": str(stranger.id)},
    )
    assert answer.status_code == 403  # whom one may book for is checked first, even when it is full


async def test_a_patient_with_a_reason_of_their_own_hears_it_not_full_and_the_session_stays_noted(
    full, backend, short_answers
):
    """The usual way names an unverified patient, a suspension and the real-name rule before "full";
    so does the short question (migration 0013): it sends them on, keeping nothing."""
    db, client, cs, people, headers, _, _ = full
    answers, _ = short_answers
    await book(client, headers[1], cs.id)  # noted sold out
    async with db.sessionmaker() as s:
        campus, dept = await s.get(Campus, cs.campus_id), await s.get(Department, cs.department_id)
        doc = await orgf.practitioner(s, department=dept, campuses=[campus])
        same_day, _ = await sf.session_with_slots(
            s, practitioner=doc, department=dept, campus=campus, slots=1, starts_in=dt.timedelta(days=2)
        )
        assert same_day.session_on == cs.session_on
        unverified = await pf.patient(s, campus=campus, name="未核验", verified=False)
        h_unverified = await accounts.bearer(
            s, await accounts.account(s, username="unverified", roles={"patient"}, patient=unverified)
        )
        now = clock.now()
        s.add(
            BookingSuspension(
                patient_id=people[3][0].id,
                starts_at=now,
                ends_at=now + dt.timedelta(days=30),
                no_shows=3,
                updated_at=now,
            )
        )
        await s.commit()
    taken = await book(client, headers[2], same_day.id)
    assert taken.status_code == 201  # the department's one that day
    before = [await count(db, m) for m in (Booking, IdempotencyRecord)]
    answers.clear()
    cases = [
        (h_unverified, 422, "patient_not_verified"),
        (headers[2], 409, "one_booking_per_department_day"),
        (headers[3], 403, "online_booking_suspended"),
    ]
    for h, status, code in cases:
        answer = await book(client, h, cs.id)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    # each asked, each sent the usual way
    assert answers == ([None] * 3 if backend.name == "postgresql" else [])
    assert sold_out.noted(cs.id)  # still sold out for everyone else
    assert [await count(db, m) for m in (Booking, IdempotencyRecord)] == before
    told = await book(client, headers[1], cs.id)
    assert told.status_code == 409 and told.json()["code"] == "slot_full"
    assert answers[-1:] == (["full"] if backend.name == "postgresql" else [])
    # reasons that have passed are none: the booking that day cancelled, the suspension over
    cancelled = await client.post(f"{BOOKINGS}/{taken.json()['id']}/cancel", headers=headers[2])
    assert cancelled.status_code == 200, cancelled.text
    async with db.sessionmaker() as s:
        await s.execute(update(BookingSuspension).values(ends_at=clock.now() - dt.timedelta(seconds=1)))
        await s.commit()
    for h in (headers[2], headers[3]):
        told = await book(client, h, cs.id)
        assert told.status_code == 409 and told.json()["code"] == "slot_full", told.text
    assert answers[-2:] == (["full", "full"] if backend.name == "postgresql" else [])


async def test_the_rush_lane_answers_as_the_route_does_in_the_callers_language(full, backend, short_answers):
    """The lane (rush/lane.py, PostgreSQL) sends the route's own 409: the same code and translated
    message, with the edge's request id."""
    _, client, cs, _, headers, _, _ = full
    answers, _ = short_answers
    usual = await client.post(
        BOOKINGS,
        headers={**headers[1], "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": "en"},
        json={"session_id": str(cs.id)},
    )
    short = await client.post(
        BOOKINGS,
        headers={**headers[2], "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": "en"},
        json={"session_id": str(cs.id)},
    )
    assert answers == (["full"] if backend.name == "postgresql" else [])  # only the second was noted sold out
    for answer in (usual, short):
        assert answer.status_code == 409 and answer.headers["x-request-id"]
        assert answer.json() | {"request_id": ""} == {
            "code": "slot_full",
            "message": "This time is fully booked.",
            "errors": [],
            "request_id": "",
        }
    chinese = await book(client, headers[3], cs.id)
    assert chinese.json()["message"] == "该时段已约满。"


@pytest.mark.parametrize("case", ["bad_key", "no_token", "bad_body", "a_slot", "not_json"])
async def test_what_the_rush_lane_does_not_know_goes_to_the_route(full, case):
    """Nothing the route would refuse is answered "full" by the lane; it goes on, body and all."""
    _, client, cs, _, headers, first, _ = full
    await book(client, headers[1], cs.id)
    assert sold_out.noted(cs.id)
    send = {
        "headers": {**headers[2], "Idempotency-Key": uuid.uuid4().hex},
        "json": {"session_id": str(cs.id)},
    }
    if case == "bad_key":
        send["headers"]["Idempotency-Key"] = "not a key!"
    elif case == "no_token":
        del send["headers"]["Authorization"]
    elif case == "bad_body":
        # both: refused by the schema
        send["json"] = {"session_id": str(cs.id), "slot_id": first.json()["slot_id"]}
    elif case == "a_slot":
        send["json"] = {"slot_id": first.json()["slot_id"]}
    else:
        send = {
            "headers": {**send["headers"], "Content-Type": "text/plain"},
            "content": b'{"session_id": "x"}',
        }
    answer = await client.post(BOOKINGS, **send)
    expected = {
        "bad_key": (422, "idempotency_key_invalid"),
        "no_token": (401, "not_authenticated"),
        "bad_body": (422, "validation_failed"),
        "a_slot": (409, "slot_full"),
    }.get(case)
    if expected:
        assert (answer.status_code, answer.json()["code"]) == expected, answer.text
    else:
        assert 400 <= answer.status_code < 500 and answer.status_code != 409, answer.text


async def test_a_request_the_lane_passes_on_is_counted_once_against_the_booking_limit(full, monkeypatch):
    _, client, cs, _, headers, first, _ = full
    await book(client, headers[1], cs.id)
    assert sold_out.noted(cs.id)
    monkeypatch.setattr(draw, "_booking_limit", Limiter(2, 60))
    # the first patient's retry of a key that booked: the lane counts it, asks, and replays its answer
    retry = await book(client, headers[0], cs.id, key=first.request.headers["Idempotency-Key"])
    assert retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
    second = await book(client, headers[0], cs.id)
    assert second.status_code == 409, second.text  # the second request of the minute, not the third
    third = await book(client, headers[0], cs.id)
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"


async def test_a_busy_pool_in_the_rush_lane_is_a_503_to_retry_not_a_500(full, backend, monkeypatch):
    if backend.name != "postgresql":
        pytest.skip("the rush lane asks a PostgreSQL function")
    _, client, cs, _, headers, _, _ = full
    await book(client, headers[1], cs.id)

    async def busy(*args, **kwargs):
        raise PoolTimeout("every connection stayed busy")

    monkeypatch.setattr(sold_out, "answer", busy)
    answer = await book(client, headers[2], cs.id)
    assert (
        answer.status_code == 503 and answer.json()["code"] == "busy" and answer.headers["Retry-After"] == "2"
    )


async def _raw_post(app, headers: dict[str, str], chunks: list[bytes], *, then_disconnect: bool = False):
    """POSTs a booking to the ASGI app in these body chunks (httpx sends one); returns (status, body)."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or then_disconnect}
        for i, c in enumerate(chunks)
    ]
    if then_disconnect:
        messages.append({"type": "http.disconnect"})
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": BOOKINGS,
        "raw_path": BOOKINGS.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
        "state": {},
    }
    await asyncio.wait_for(app(scope, receive, send), 30)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    return (start["status"] if start else None), b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )


async def test_a_body_in_several_chunks_is_read_whole_by_the_lane_and_given_on_whole(full):
    _, client, cs, _, headers, first, _ = full
    await book(client, headers[1], cs.id)
    app = client._transport.app
    send = {**headers[2], "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    body = f'{{"session_id": "{cs.id}"}}'.encode()
    status, answer = await _raw_post(app, send, [body[:9], body[9:20], body[20:]])
    assert status == 409 and b"slot_full" in answer
    # a chosen slot is the route's: it reads the same chunks
    slot = f'{{"slot_id": "{first.json()["slot_id"]}"}}'.encode()
    status, answer = await _raw_post(app, {**send, "Idempotency-Key": uuid.uuid4().hex}, [slot[:5], slot[5:]])
    assert status == 409 and b"slot_full" in answer


async def test_a_client_gone_before_its_body_ends_is_left_to_the_route(full):
    db, client, cs, _, headers, _, _ = full
    await book(client, headers[1], cs.id)
    send = {**headers[2], "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    status, _ = await _raw_post(client._transport.app, send, [b'{"session_id": '], then_disconnect=True)
    assert status is None or 400 <= status < 500  # never "full" for a request never received, never a 500
    assert await count(db, Booking) == 1


async def test_a_token_that_expired_after_it_was_first_used_is_refused(full):
    _, client, cs, _, headers, _, _ = full
    await book(client, headers[1], cs.id)
    assert (await book(client, headers[2], cs.id)).status_code == 409  # its actor is now kept
    clock.freeze(clock.now() + dt.timedelta(days=1))
    try:
        answer = await book(client, headers[2], cs.id)
    finally:
        clock.freeze(None)
    assert answer.status_code == 401 and answer.json()["code"] == "token_invalid"


async def test_questions_asked_together_share_round_trips_and_each_gets_its_own_answer(
    full, backend, monkeypatch
):
    if backend.name != "postgresql":
        pytest.skip("the short question is a PostgreSQL function")
    db, client, cs, people, headers, first, _ = full
    await book(client, headers[1], cs.id)  # noted sold out
    trips: list[int] = []
    round_trip = sold_out._pool_round_trip

    async def counted(engine, questions):
        trips.append(len(questions))
        return await round_trip(engine, questions)

    monkeypatch.setattr(sold_out, "_pool_round_trip", counted)
    used_key = first.request.headers["Idempotency-Key"]
    first_patient, first_account = people[0]
    # what the first booking's key holds
    asked = BookingCreate(session_id=cs.id).fingerprint(first_patient.id)
    asks = [
        (first_account.id, first_patient.id, used_key, asked),
        (first_account.id, first_patient.id, used_key, {"another": "request"}),
    ] + [(people[1 + i % 3][1].id, people[1 + i % 3][0].id, f"together-{i}", asked) for i in range(2, 40)]
    answers = await asyncio.gather(
        *[
            sold_out.answer(
                db.engine, account_id=a, patient_id=p, key=k, request=r, session_id=cs.id, now=clock.now()
            )
            for a, p, k, r in asks
        ]
    )
    # the key that booked gets its stored answer again, but not for another request (the usual way refuses
    # that key); every fresh key of the others is told "full"
    assert answers == [sold_out.Booked(first.json(), replayed=True), None] + ["full"] * 38
    assert sum(trips) == 40 and len(trips) < 40  # batched: fewer round trips than questions
    assert await count(db, IdempotencyRecord, IdempotencyRecord.key.like("together-%")) == 0  # nothing kept
    assert await count(db, Booking) == 1


async def test_a_question_waiting_for_its_key_does_not_hold_up_its_batch(full, backend, monkeypatch):
    if backend.name != "postgresql":
        pytest.skip("row-lock interleaving: PostgreSQL")
    db, client, cs, people, headers, _, _ = full
    await book(client, headers[1], cs.id)  # noted sold out
    # one round trip under way at a time: the held key goes first, alone, and the others wait for it
    monkeypatch.setattr(sold_out._batcher(db.engine), "max_out", 1)
    account = people[2][1]
    other = db.sessionmaker()
    s1 = await other.__aenter__()  # another request is answering this key and has not committed yet
    await s1.execute(
        text(
            "INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, "
            "created_at) VALUES (:a, 'held-key', 'h', 0, CAST('{}' AS json), now())"
        ),
        {"a": account.id},
    )
    try:
        asks = [("held-key", people[2])] + [(f"free-{i}", people[1 + i % 3]) for i in range(5)]
        answers = await asyncio.wait_for(
            asyncio.gather(
                *[
                    sold_out.answer(
                        db.engine,
                        account_id=a.id,
                        patient_id=p.id,
                        key=k,
                        request={"op": "book"},
                        session_id=cs.id,
                        now=clock.now(),
                    )
                    for k, (p, a) in asks
                ]
            ),
            10,
        )  # all answered while the other request still holds its key
        # the held key goes the usual way (which waits for that answer), the others are "full"
        assert answers == [None] + ["full"] * 5
        assert sold_out.noted(cs.id)  # 'busy' is no reason to forget that the session is sold out
    finally:
        await s1.rollback()
        await other.__aexit__(None, None, None)
