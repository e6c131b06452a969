"""A patient's own booking of a session in one statement (scheduling/own_booking.py, migration 0012),
taken by the rush lane on PostgreSQL: it keeps what the usual path keeps (the booking, the audit row of
the access, the outbox event, the answer under the Idempotency-Key) and answers as the usual path
does; whatever the usual path should explain or wait for goes the usual way and changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.util import greenlet_spawn

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.audit import AuditEvent
from zhiyi.core.config import get_settings
from zhiyi.core.idempotency import IdempotencyRecord, request_hash
from zhiyi.core.outbox import OutboxEvent
from zhiyi.core.ratelimit import Limiter
from zhiyi.domains.scheduling import draw
from zhiyi.domains.scheduling.models import Booking, BookingSuspension, ClinicSession, DrawEntry, Slot
from zhiyi.domains.scheduling.rush import own_booking

BOOKINGS = "/api/v1/scheduling/bookings"


@pytest.fixture
async def clinic(live_app, backend):
    """A released session of `places` one-place slots (starts in two days), and patients with their
    accounts' bearer headers: made by `patients(n, verified=True)`."""
    db, client = live_app.db, live_app.client
    made = {}

    async def make(places: int = 3, starts_in: dt.timedelta = dt.timedelta(days=2), **kw):
        async with db.sessionmaker() as s:
            campus = await orgf.campus(s, code=f"C{len(made)}", is_main=not made)
            dept = await orgf.department(s, code=f"IM.D{len(made)}")
            doc = await orgf.practitioner(s, department=dept, campuses=[campus])
            cs, slots = await sf.session_with_slots(
                s, practitioner=doc, department=dept, campus=campus, slots=places, starts_in=starts_in, **kw
            )
            await s.commit()
        made[cs.id] = campus
        return cs, slots

    async def patients(n: int, *, verified: bool = True):
        campus = next(iter(made.values()))
        out = []
        async with db.sessionmaker() as s:
            for _ in range(n):
                p = await pf.patient(s, campus=campus, verified=verified)
                acct = await accounts.account(
                    s, username=f"own{uuid.uuid4().hex[:10]}", roles={"patient"}, patient=p
                )
                out.append((p, acct, await accounts.bearer(s, acct)))
            await s.commit()
        return out

    yield db, client, make, patients


@pytest.fixture
def one_statement(monkeypatch):
    """The answers own_booking.book gave in this test (a spy on it)."""
    answers = []
    real = own_booking.book

    async def spy(*args, **kwargs):
        answers.append(await real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(own_booking, "book", spy)
    return answers


@pytest.fixture
def said(monkeypatch):
    """What the database function answered in this test, question by question (a spy on book_many)."""
    outcomes = []
    real = own_booking.book_many

    async def spy(driver, questions, **kw):
        got = await real(driver, questions, **kw)
        outcomes.extend(o.kind for o in got)
        return got

    monkeypatch.setattr(own_booking, "book_many", spy)
    return outcomes


async def book(client, headers, session_id, *, key: str | None = None, **body):
    return await client.post(
        BOOKINGS,
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
        json={"session_id": str(session_id), **body},
    )


async def soon(seen: list) -> None:
    """Until `seen` has something (at most 2 s)."""
    for _ in range(200):
        if seen:
            return
        await asyncio.sleep(0.01)


@asynccontextmanager
async def another_transaction(db, sql: str, params: dict):
    """Another request's transaction that has run `sql` (holding its locks) and not committed yet;
    it rolls back at the end, unless the test did that already."""
    async with db.sessionmaker() as other:
        await other.execute(text(sql), params)
        try:
            yield other
        finally:
            await other.rollback()


HOLD_SLOT = "SELECT id FROM slot WHERE id = :s FOR UPDATE"  # another booking holds the place


async def count(db, model, *where) -> int:
    async with db.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_an_own_booking_keeps_what_the_usual_path_keeps_and_answers_the_same(
    clinic, backend, one_statement
):
    db, client, make, patients = clinic
    cs, slots = await make(places=3)
    [(patient, acct, headers)] = await patients(1)
    answer = await book(client, headers, cs.id, key="own-key-0001")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    # taken the one-statement way on PostgreSQL; SQLite has no lane
    assert len(one_statement) == (1 if backend.name == "postgresql" else 0)
    if one_statement:
        assert one_statement[0] == (body, False)
    assert body["slot_id"] == str(slots[0].id) and body["channel"] == "online" and body["status"] == "booked"
    async with db.sessionmaker() as s:
        booking = await s.get(Booking, uuid.UUID(body["id"]))
        assert booking.booked_by_account_id == acct.id and booking.session_on == cs.session_on
        assert (await s.get(Slot, slots[0].id)).booked == 1
        audit = (
            await s.scalars(
                select(AuditEvent).where(AuditEvent.patient_id == patient.id, AuditEvent.action == "book")
            )
        ).all()
        assert [
            (a.outcome, a.actor_account_id, a.resource_type, a.resource_id, a.actor_roles) for a in audit
        ] == [("allowed", acct.id, "patient", str(patient.id), "patient")]
        assert audit[0].request_id == answer.headers["X-Request-ID"]
        events = (
            await s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "scheduling.booking_created"))
        ).all()
        assert [e.payload for e in events] == [
            {
                "booking_id": body["id"],
                "patient_id": str(patient.id),
                "slot_id": body["slot_id"],
                "session_id": str(cs.id),
            }
        ]
        record = await s.get(IdempotencyRecord, (acct.id, "own-key-0001"))
        assert record.status_code == 201 and record.response == body
    # the very answer the usual path gives for this booking (types, times, order of the earliest place)
    read = await client.get(f"{BOOKINGS}/mine", headers=headers)
    assert read.status_code == 200 and read.json() == [body]
    # a retry replays the stored answer and books nothing more (on PostgreSQL the one statement replays it)
    again = await book(client, headers, cs.id, key="own-key-0001")
    assert (
        again.status_code == 201
        and again.json() == body
        and again.headers.get("Idempotent-Replayed") == "true"
    )
    if one_statement:
        assert one_statement[-1] == (body, True)
    # audited: the booking and the read of "mine" (a replay shows nothing the client was not shown)
    assert await count(db, Booking) == 1 and await count(db, AuditEvent, AuditEvent.action == "book") == 2
    # the same key for another request is refused, as ever
    other, _ = await make(places=1)
    reused = await book(client, headers, other.id, key="own-key-0001")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


async def test_refusals_the_patient_should_hear_by_name_go_the_usual_way_and_keep_nothing(
    clinic, backend, one_statement, said
):
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=4)
    later, _ = await make(places=2, released=False)
    closed, _ = await make(places=2, status="stopped")
    [(unverified, _, h_unverified)] = await patients(1, verified=False)
    (booked, _, h_booked), (suspended, _, h_suspended) = await patients(2)
    assert (await book(client, h_booked, cs.id)).status_code == 201
    async with db.sessionmaker() as s:
        now = clock.now()
        s.add(
            BookingSuspension(
                patient_id=suspended.id,
                starts_at=now,
                ends_at=now + dt.timedelta(days=30),
                no_shows=3,
                updated_at=now,
            )
        )
        await s.commit()
    before = [await count(db, m) for m in (Booking, AuditEvent, OutboxEvent, IdempotencyRecord)]
    cases = [
        (h_unverified, cs.id, 422, "patient_not_verified"),
        (h_booked, cs.id, 409, "one_booking_per_department_day"),
        (h_suspended, cs.id, 403, "online_booking_suspended"),
        (h_booked, later.id, 409, "not_yet_released"),
        (h_booked, closed.id, 409, "session_closed"),
    ]
    for headers, session_id, status, code in cases:
        answer = await book(client, headers, session_id)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert one_statement[1:] == [None] * len(cases)  # each asked, each sent the usual way
    assert said == ["booked"] + ["usual"] * len(cases)  # refused by the function's rules, not by an error
    # nothing kept by the refusals, in the function or on the usual way (not even an audit row: the
    # usual way's access was allowed and rolled back with the refused booking)
    assert [await count(db, m) for m in (Booking, AuditEvent, OutboxEvent, IdempotencyRecord)] == before


async def test_the_rush_lane_answers_while_other_requests_hold_every_shared_connection(
    clinic, backend, one_statement
):
    """The batched statements have connections of their own (rush/pool.py): a rush's
    bookings and "full" answers never wait behind other requests' transactions for a connection."""
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=1)
    (_, _, h1), (_, _, h2) = await patients(2)
    # kept and overflow
    held = [await db.engine.raw_connection() for _ in range(2 * db.settings.db_pool_size)]
    try:
        booked = await asyncio.wait_for(book(client, h1, cs.id), 10)
        full = await asyncio.wait_for(book(client, h2, cs.id), 10)
    finally:
        for pooled in held:
            await greenlet_spawn(pooled.close)
    assert booked.status_code == 201, booked.text
    assert full.status_code == 409 and full.json()["code"] == "slot_full"
    assert [type(a).__name__ if a != "full" else a for a in one_statement] == ["Booked", "full"]


async def test_a_sold_out_session_is_answered_full_and_nothing_kept(clinic, backend, one_statement):
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=1)
    (_, _, h1), (_, a2, h2) = await patients(2)
    assert (await book(client, h1, cs.id)).status_code == 201
    full = await book(client, h2, cs.id, key="own-full-0001")
    assert full.status_code == 409 and full.json()["code"] == "slot_full"
    assert one_statement[-1] == "full"
    # "full" is never stored
    assert await count(db, IdempotencyRecord, IdempotencyRecord.account_id == a2.id) == 0


async def test_a_place_held_by_a_booking_not_yet_committed_goes_the_usual_way(
    clinic, backend, one_statement, said
):
    if backend.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    db, client, make, patients = clinic
    cs, slots = await make(places=1)
    [(_, _, headers)] = await patients(1)
    async with another_transaction(db, HOLD_SLOT, {"s": slots[0].id}):
        pending = asyncio.ensure_future(book(client, headers, cs.id))
        await soon(one_statement)  # the one statement answers without waiting for the held row
        assert one_statement == [None] and not pending.done()  # on the usual way, which waits for the holder
        assert said == ["held"] * own_booking.HELD_ASKS  # skipped, not waited for ('busy'), and asked again
    # the other booking rolled back: the place is to be had
    answer = await pending
    assert answer.status_code == 201 and answer.json()["slot_id"] == str(slots[0].id)


async def test_a_place_given_up_by_its_holder_meanwhile_is_booked_when_asked_again(
    clinic, backend, one_statement, said, monkeypatch
):
    if backend.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    db, client, make, patients = clinic
    cs, slots = await make(places=1)
    [(_, _, headers)] = await patients(1)
    spy = own_booking.book_many
    async with another_transaction(db, HOLD_SLOT, {"s": slots[0].id}) as holder:

        async def holder_rolls_back_after_the_first_ask(driver, questions, **kw):
            got = await spy(driver, questions, **kw)
            if holder.in_transaction():
                await holder.rollback()  # the other booking failed meanwhile
            return got

        monkeypatch.setattr(own_booking, "book_many", holder_rolls_back_after_the_first_ask)
        answer = await book(client, headers, cs.id)
    assert answer.status_code == 201 and answer.json()["slot_id"] == str(slots[0].id)
    # booked by the one statement
    assert said == ["held", "booked"] and one_statement[0].answer == answer.json()


async def test_concurrent_own_bookings_share_round_trips_and_never_overbook(
    clinic, backend, one_statement, monkeypatch
):
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=10)
    people = await patients(40)
    trips: list[int] = []
    real = own_booking._pool_round_trip

    async def counted(engine, questions):
        trips.append(len(questions))
        return await real(engine, questions)

    monkeypatch.setattr(own_booking, "_pool_round_trip", counted)
    answers = await asyncio.gather(
        *[book(client, h, cs.id, key=f"rush-{i:04d}") for i, (_, _, h) in enumerate(people)]
    )
    codes = sorted((a.status_code, a.json().get("code")) for a in answers)
    assert codes == [(201, None)] * 10 + [(409, "slot_full")] * 30
    assert len(trips) < 40  # batched: fewer round trips than bookings
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.sum(Slot.booked)).where(Slot.session_id == cs.id)) == 10
    assert await count(db, Booking) == 10
    assert await count(db, IdempotencyRecord, IdempotencyRecord.status_code == 201) == 10
    assert await count(db, IdempotencyRecord, IdempotencyRecord.status_code == 0) == 0  # no claim left behind
    assert await count(db, AuditEvent, AuditEvent.action == "book") == 10
    assert await count(db, OutboxEvent, OutboxEvent.topic == "scheduling.booking_created") == 10
    booked = {a.json()["slot_id"] for a in answers if a.status_code == 201}
    assert len(booked) == 10  # each one-place slot to one patient


async def test_the_same_key_or_patient_twice_at_once_books_once(clinic, backend, said):
    db, client, make, patients = clinic
    cs, _ = await make(places=4)
    (_, _, h1), (_, _, h2) = await patients(2)
    # a phone that sent its request twice (same key), and a patient pressing twice (two keys), at once
    answers = await asyncio.gather(
        book(client, h1, cs.id, key="twice-0001"),
        book(client, h1, cs.id, key="twice-0001"),
        book(client, h2, cs.id),
        book(client, h2, cs.id),
    )
    same_key, same_patient = answers[:2], answers[2:]
    assert [a.status_code for a in same_key] == [201, 201] and same_key[0].json() == same_key[1].json()
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in same_key) == ["", "true"]
    assert sorted((a.status_code, a.json().get("code")) for a in same_patient) == [
        (201, None),
        (409, "one_booking_per_department_day"),
    ]
    assert await count(db, Booking) == 2
    assert "error" not in said


async def test_a_booking_committed_whose_answer_was_lost_is_replayed(
    clinic, backend, one_statement, monkeypatch
):
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=2)
    [(_, acct, headers)] = await patients(1)
    real = own_booking.book_many

    async def lost(driver, questions, **kw):  # the batch commits, then the connection drops
        await real(driver, questions, **kw)
        raise OSError("connection lost")

    monkeypatch.setattr(own_booking, "book_many", lost)
    answer = await book(client, headers, cs.id, key="lost-answer-1")
    assert one_statement == [None]  # the lane did not know: on to the usual way with the same key ...
    # ... which replays
    assert answer.status_code == 201 and answer.headers.get("Idempotent-Replayed") == "true"
    assert await count(db, Booking) == 1


async def test_a_key_held_by_another_request_is_waited_for_briefly_then_the_usual_way_waits(
    clinic, backend, one_statement, said
):
    if backend.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    db, client, make, patients = clinic
    cs, _ = await make(places=2)
    [(patient, acct, headers)] = await patients(1)
    fingerprint = {
        "op": "book",
        "slot_id": None,
        "session_id": str(cs.id),
        "patient_id": str(patient.id),
        "channel": "online",
    }
    # another request is answering this key and has not committed yet; it fails at the end
    async with another_transaction(
        db,
        "INSERT INTO idempotency_record (account_id, key, request_hash, status_code, "
        "response, created_at) VALUES (:a, 'held-key-01', :h, 0, CAST('{}' AS json), now())",
        {"a": acct.id, "h": request_hash(fingerprint)},
    ):
        pending = asyncio.ensure_future(book(client, headers, cs.id, key="held-key-01"))
        await soon(said)
        assert said == ["busy"] and not pending.done()  # the usual way now waits for that request
    answer = await pending
    assert answer.status_code == 201 and answer.headers.get("Idempotent-Replayed") is None


async def test_the_booking_limit_counts_a_booking_once(clinic, backend, monkeypatch):
    db, client, make, patients = clinic
    cs, _ = await make(places=3)
    # not at the same time (overlap.py)
    other, _ = await make(places=3, starts_in=dt.timedelta(days=2, hours=2))
    [(_, _, headers)] = await patients(1)
    monkeypatch.setattr(draw, "_booking_limit", Limiter(2, 60))  # two booking requests a minute
    assert (await book(client, headers, cs.id)).status_code == 201
    assert (await book(client, headers, other.id)).status_code == 201  # counted once each: still allowed
    third = await book(client, headers, other.id)
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"


async def test_the_day_of_a_booking_is_the_hospitals_day(clinic, backend, said):
    """A clinic at 00:30 in Shanghai is 16:30 UTC the day before: the booking's day (the real-name rule's)
    is the hospital's."""
    db, client, make, patients = clinic
    cs, slots = await make(places=1)
    local = dt.datetime.combine(
        clock.today() + dt.timedelta(days=3), dt.time(0, 30), tzinfo=ZoneInfo("Asia/Shanghai")
    )
    async with db.sessionmaker() as s:
        starts = local.astimezone(dt.UTC)
        ends = starts + dt.timedelta(minutes=10)
        await s.execute(update(Slot).where(Slot.id == slots[0].id).values(starts_at=starts, ends_at=ends))
        await s.execute(
            update(ClinicSession)
            .where(ClinicSession.id == cs.id)
            .values(starts_at=starts, ends_at=ends, session_on=local.date())
        )
        await s.commit()
    [(_, _, headers)] = await patients(1)
    answer = await book(client, headers, cs.id)
    assert answer.status_code == 201 and answer.json()["session_on"] == local.date().isoformat()
    assert said == (["booked"] if backend.name == "postgresql" else [])


async def test_a_time_past_midnight_is_booked_on_its_clinics_day(clinic, backend, said):
    """An evening clinic from 23:50 whose free time is 00:10: the booking's day is the clinic's (the
    real-name rule and the doctor's day read it), on the lane as on the usual path."""
    db, client, make, patients = clinic
    cs, slots = await make(places=3)
    local = dt.datetime.combine(
        clock.today() + dt.timedelta(days=3), dt.time(23, 50), tzinfo=ZoneInfo("Asia/Shanghai")
    )
    async with db.sessionmaker() as s:
        for i, slot in enumerate(slots):
            starts = (local + dt.timedelta(minutes=10 * i)).astimezone(dt.UTC)
            await s.execute(
                update(Slot)
                .where(Slot.id == slot.id)
                .values(starts_at=starts, ends_at=starts + dt.timedelta(minutes=10), booked=int(i < 2))
            )
        await s.execute(
            update(ClinicSession)
            .where(ClinicSession.id == cs.id)
            .values(
                starts_at=local.astimezone(dt.UTC),
                ends_at=(local + dt.timedelta(minutes=30)).astimezone(dt.UTC),
                session_on=local.date(),
            )
        )
        await s.commit()
    [(_, _, headers)] = await patients(1)
    answer = await book(client, headers, cs.id)
    assert answer.status_code == 201 and answer.json()["slot_id"] == str(slots[2].id)
    assert answer.json()["session_on"] == local.date().isoformat()
    assert await count(db, Booking, Booking.session_on == local.date()) == 1
    assert said == (["booked"] if backend.name == "postgresql" else [])


async def test_an_unexpected_error_is_logged_and_the_usual_way_books(
    clinic, backend, one_statement, monkeypatch, caplog
):
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=2)
    [(_, _, headers)] = await patients(1)
    real = own_booking.book_many
    monkeypatch.setattr(
        own_booking, "book_many", lambda driver, qs, **kw: real(driver, qs, draw_hold=float("nan"))
    )
    monkeypatch.setattr(own_booking, "_last_logged", -own_booking.ERROR_LOG_SECONDS)
    with caplog.at_level(logging.ERROR, logger="zhiyi.scheduling"):
        answer = await book(client, headers, cs.id)
    assert answer.status_code == 201 and one_statement == [None]
    assert "interval out of range" in caplog.text and "22008" in caplog.text  # the database's own words
    assert await count(db, Booking) == 1


@pytest.mark.parametrize("since", [0.5, 1.5], ids=["window", "spread"])
async def test_during_a_release_draw_the_booking_goes_the_usual_way(
    clinic, backend, one_statement, said, monkeypatch, since
):
    """Window 1 s, spread 1 s: asked 0.5 s after the release the request enters the draw; 1.5 s after,
    it waits until the draw has been served. Either way the usual path keeps the draw's order."""
    if backend.name != "postgresql":
        pytest.skip("the one-statement booking is a PostgreSQL function")
    db, client, make, patients = clinic
    cs, _ = await make(places=2)
    (_, _, h1), (_, _, h2) = await patients(2)  # before the release is set: the draw's 2 s are the test's own
    async with db.sessionmaker() as s:
        await s.execute(
            text("UPDATE clinic_session SET release_at = :at WHERE id = :id"),
            {"at": clock.now() - dt.timedelta(seconds=since), "id": cs.id},
        )
        await s.commit()
    monkeypatch.setattr(get_settings(), "release_draw_seconds", 1.0)
    monkeypatch.setattr(get_settings(), "release_draw_spread_seconds", 1.0)
    first = asyncio.ensure_future(book(client, h1, cs.id))
    await soon(one_statement)  # the lane has read the function's answer (not merely been given it)
    assert said == ["draw"] and own_booking.in_draw(cs.id)
    second = asyncio.ensure_future(book(client, h2, cs.id))  # while the draw is on: not asked at all
    answers = await asyncio.gather(first, second)
    # both the usual way
    assert [a.status_code for a in answers] == [201, 201] and one_statement == [None, None]
    assert len(said) == 1
    assert await count(db, DrawEntry) == (2 if since < 1.0 else 0)  # tickets only inside the window
    own_booking._draws.clear()


@pytest.mark.parametrize("rush_lane", [False])
async def test_the_setting_turns_it_off(clinic, backend, one_statement, rush_lane):
    """ZHIYI_RUSH_LANE=false: the usual path books, the lane asks nothing."""
    db, client, make, patients = clinic
    cs, _ = await make(places=1)
    (_, _, h1), (_, _, h2) = await patients(2)
    assert (await book(client, h1, cs.id)).status_code == 201
    full = await book(client, h2, cs.id)
    assert full.status_code == 409 and full.json()["code"] == "slot_full"
    assert one_statement == []


async def test_times_are_written_as_the_api_writes_them(clinic, backend):
    if backend.name != "postgresql":
        pytest.skip("a PostgreSQL function")
    db, *_ = clinic
    from pydantic import TypeAdapter

    times = [dt.datetime(2026, 11, 24, 1, 2, 3, us, tzinfo=dt.UTC) for us in (0, 400000, 123456, 5)]
    times.append(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    async with db.sessionmaker() as s:
        got = [await s.scalar(text("SELECT scheduling_json_time(:t)"), {"t": t}) for t in times]
    assert got == [TypeAdapter(dt.datetime).dump_python(t.astimezone(dt.UTC), mode="json") for t in times]
