"""The rush lane (scheduling/rush/lane.py) on a real database with its own connections, for a sold-out
session (the one-statement booking answers "full"): it answers as the route does, in the caller's language,
passes on what it does not know with its body, counts a request once against the booking limit, answers a
busy pool with a 503 to retry, reads a body in several chunks, leaves a client that went away to the
route, and refuses a token that expired."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.app import create_app
from zhiyi.core import clock
from zhiyi.core.policy import Actor
from zhiyi.core.ratelimit import Limiter
from zhiyi.domains.scheduling import draw
from zhiyi.domains.scheduling.models import Booking
from zhiyi.domains.scheduling.rush import own_booking

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


@pytest.fixture
def lane_answers(monkeypatch):
    """The one-statement booking's answers in this test (a spy on own_booking.book)."""
    answers = []
    real = own_booking.book

    async def spy(*args, **kwargs):
        answers.append(await real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(own_booking, "book", spy)
    return answers


async def book(client, headers, session_id, *, key: str | None = None):
    return await client.post(
        BOOKINGS,
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
        json={"session_id": str(session_id)},
    )


async def count(db, model, *where) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_the_rush_lane_answers_as_the_route_does_in_the_callers_language(full, backend, lane_answers):
    """The lane (rush/lane.py, PostgreSQL) sends the route's own 409: the same code and translated
    message, with the edge's request id."""
    _, client, cs, _, headers, _, _ = full
    usual_app = create_app(full[0].settings.model_copy(update={"rush_lane": False}), database=full[0])
    usual_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=usual_app), base_url="http://t")
    async with usual_client:
        usual = await usual_client.post(
            BOOKINGS,
            headers={**headers[1], "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": "en"},
            json={"session_id": str(cs.id)},
        )
    short = await client.post(
        BOOKINGS,
        headers={**headers[2], "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": "en"},
        json={"session_id": str(cs.id)},
    )
    assert lane_answers == (["full"] if backend.name == "postgresql" else [])  # the second only: the lane's
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

    monkeypatch.setattr(own_booking, "book", busy)
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
