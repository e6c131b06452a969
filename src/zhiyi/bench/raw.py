"""The anchor: the same booking statements as the server's booking path (on PostgreSQL: its short
question for sessions seen sold out and its one-statement own booking, each asked in batches as the
server asks them, and the whole transaction where those send a booking the usual way), driven
straight through the database driver (asyncpg, or sqlite3 for SQLite) at the same concurrency, by
the same patient behaviour. Its decisions per second are the database's own limit for this work."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sqlite3
import time
import uuid

import asyncpg

from zhiyi.domains.scheduling.models import active_booking_sql
from zhiyi.domains.scheduling.rush import batches, own_booking

PG_STEPS = [
    (
        "claim",
        "INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, created_at) "
        "VALUES ($1, $2, 'raw', 0, '{}', now())",
    ),
    ("patient", "SELECT id, registered_campus_id, verified_at FROM patient WHERE id = $1"),
    (
        "audit",
        "INSERT INTO audit_event (id, at, actor_roles, patient_id, action, resource_type, resource_id, "
        "outcome) VALUES ($2, now(), 'patient', $1, 'book', 'patient', $3, 'allowed')",
    ),
    # the session with the patient's blockers there (real-name rule, no-show suspension): one statement
    (
        "session",
        "SELECT cs.id, cs.practitioner_id, cs.department_id, cs.campus_id, cs.session_on, cs.status, "
        "cs.release_at, cs.ends_at, cs.ends_at AS bookable_until, "
        "EXISTS (SELECT 1 FROM booking b WHERE b.patient_id = $2 AND b.department_id = cs.department_id "
        f"AND b.session_on = cs.session_on AND {active_booking_sql('b.status')}) AS taken, "
        "(SELECT ends_at FROM booking_suspension WHERE patient_id = $2 AND ends_at > now()) "
        "AS suspended_until "
        "FROM clinic_session cs WHERE cs.id = $1",
    ),
    # the earliest place nobody holds, taken, and whether any place is free at all: one statement
    (
        "take",
        "WITH took AS (UPDATE slot SET booked = booked + 1 WHERE slot.id = (SELECT free.id FROM slot AS free "
        "WHERE free.session_id = $1 AND free.booked < free.capacity AND free.starts_at > now() "
        "ORDER BY free.starts_at, free.id LIMIT 1 FOR UPDATE SKIP LOCKED) AND slot.booked < slot.capacity "
        "RETURNING slot.id, slot.starts_at, slot.ends_at) "
        "SELECT took.id, took.starts_at, took.ends_at, "
        "EXISTS (SELECT 1 FROM slot AS free WHERE free.session_id = $1 "
        "AND free.booked < free.capacity AND free.starts_at > now()) AS any_free "
        "FROM (SELECT 1) AS one_row LEFT JOIN took ON true",
    ),
    # the real-name index settles a race (no savepoint)
    (
        "book",
        "INSERT INTO booking (id, slot_id, session_id, patient_id, department_id, session_on, status, "
        "channel, booked_by_account_id, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, 'booked', 'online', $7, now()) "
        f"ON CONFLICT (patient_id, department_id, session_on) WHERE {active_booking_sql()} DO NOTHING "
        "RETURNING id",
    ),
    (
        "event",
        "INSERT INTO outbox_event (id, topic, payload, created_at, available_at, attempts) "
        "VALUES ($1, 'scheduling.booking_created', $2::json, now(), now(), 0)",
    ),
    (
        "remember",
        "UPDATE idempotency_record SET status_code = 201, response = $3::json "
        "WHERE account_id = $1 AND key = $2",
    ),
]
SQL = dict(PG_STEPS)


# the short question for a session seen sold out (migration 0013; the server asked it until migration 0020,
# the anchors keep it in their scratch database, bench/scratch.py): one by one, and in batches
ASK_SOLD_OUT = "SELECT scheduling_ask_sold_out($1, $2, $3, $4, $5, now())"
ASK_FIELDS = 6  # account, key, request hash, patient, session, now
_ASK_MANY = (
    "SELECT scheduling_ask_sold_out(q.account, q.key, q.hash, q.patient, q.session, q.now) "
    "FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::uuid[], $6::timestamptz[]) "
    "WITH ORDINALITY AS q(account, key, hash, patient, session, now, n) ORDER BY q.n"
)


async def ask_many(driver: asyncpg.Connection, questions: list[tuple]) -> list[str | None]:
    """One batch's short questions in one round trip: their outcomes, in order."""
    rows = await driver.fetch(_ASK_MANY, *batches.arrays(questions, ASK_FIELDS))
    return [row[0] for row in rows]


async def pg_book(
    conn,
    patient_id: uuid.UUID,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
    sold_out: set[uuid.UUID] | None,
    key: str | None = None,
) -> uuid.UUID:
    """One booking attempt as the server makes it, under a new Idempotency-Key (or `key`): a
    session seen sold out is asked about in one round trip first ("full", or on to the whole
    transaction); `sold_out` is the hint (None: no short question, every attempt a whole
    transaction). Returns the booking's id; raises Refused for "full" (or the patient's blockers)."""
    key = key or uuid.uuid4().hex
    if sold_out is not None and session_id in sold_out:
        outcome = await conn.fetchval(ASK_SOLD_OUT, account_id, key, "raw", patient_id, session_id)
        if outcome == "full":
            raise Refused()
        if outcome == "ask_again":  # as the server: the hint is dropped only when the session is not sold out
            sold_out.discard(session_id)
    async with conn.transaction():
        await conn.execute(SQL["claim"], account_id, key)
        await conn.fetchrow(SQL["patient"], patient_id)
        await conn.execute(SQL["audit"], patient_id, uuid.uuid4(), str(patient_id))
        cs = await conn.fetchrow(SQL["session"], session_id, patient_id)
        if cs["taken"] or cs["suspended_until"]:
            raise Refused()
        took = await conn.fetchrow(SQL["take"], session_id)
        if took["id"] is None:
            if sold_out is not None and not took["any_free"]:
                sold_out.add(session_id)
            raise Refused()
        booking_id = uuid.uuid4()
        if (
            await conn.fetchval(
                SQL["book"],
                booking_id,
                took["id"],
                session_id,
                patient_id,
                cs["department_id"],
                cs["session_on"],
                account_id,
            )
            is None
        ):
            raise Refused()
        payload = json.dumps({"id": str(booking_id), "slot_id": str(took["id"])})
        await conn.execute(SQL["event"], uuid.uuid4(), payload)
        await conn.execute(SQL["remember"], account_id, key, payload)
    return booking_id


class Refused(Exception):
    pass


async def run_pg(
    url: str,
    *,
    people: list[tuple[str, str]],
    session_ids: list[str],
    concurrency: int,
    pool_size: int,
    seed: int,
    max_tries: int,
    short: bool = True,
    batched: bool = True,
    batches_out: int = batches.BATCHES_OUT,
) -> tuple[int, float]:
    """Returns (decisions, seconds). `short=False`: every attempt goes through the whole booking
    transaction (the anchor of earlier sessions, before the server had its short question).
    `batched` (the server's way): the short questions and the bookings go out in batches, as the
    server asks them (batches.Batcher: one round trip for the questions that came while others were
    under way), each booking the one statement of own_booking.py; False: the short questions one by
    one, each on the attempt's own connection, and every booking the whole transaction (the anchor
    before the server batched them). `batches_out`: batches of each kind under way at once (the
    server has `batches.BATCHES_OUT` in each worker)."""
    pool = await asyncpg.create_pool(
        "postgresql://" + url.split("://", 1)[1], min_size=pool_size, max_size=pool_size
    )
    queue: asyncio.Queue = asyncio.Queue()
    for p, a in people:
        queue.put_nowait((uuid.UUID(p), uuid.UUID(a)))
    sessions = [uuid.UUID(s) for s in session_ids]
    decisions = 0
    sold_out: set[uuid.UUID] | None = set() if short else None

    def batcher_of(ask_many) -> batches.Batcher:
        async def round_trip(questions: list[tuple]) -> list:
            async with pool.acquire() as conn:
                return await ask_many(conn, questions)

        return batches.Batcher(round_trip, out=batches_out)

    batcher = batcher_of(ask_many) if short and batched else None
    booker = (
        batcher_of(lambda conn, qs: own_booking.book_many(conn, qs, draw_hold=0.0))
        if short and batched
        else None
    )

    async def client(n: int) -> None:
        nonlocal decisions
        rng = random.Random(seed * 100_003 + n)
        while not queue.empty():
            pid, aid = queue.get_nowait()
            for sid in rng.sample(sessions, min(max_tries, len(sessions))):
                key = uuid.uuid4().hex
                if (
                    batcher is not None and sid in sold_out
                ):  # asked before a connection is taken, as the server does
                    outcome = await batcher.ask((aid, key, "raw", pid, sid, dt.datetime.now(dt.UTC)))
                    if outcome == "full":
                        decisions += 1
                        continue
                    if outcome == "ask_again":  # not sold out after all (the server forgets its hint)
                        sold_out.discard(sid)
                    # on to the whole transaction, which asks nothing more
                elif booker is not None:  # the one statement (no draw in the rush; no request id or address)
                    outcome = await booker.ask(
                        (
                            aid,
                            key,
                            "raw",
                            pid,
                            sid,
                            uuid.uuid4(),
                            uuid.uuid4(),
                            uuid.uuid4(),
                            "patient",
                            None,
                            None,
                        )
                    )
                    if outcome.kind == "booked":
                        decisions += 1
                        break
                    if outcome.kind == "full":
                        sold_out.add(sid)
                        decisions += 1
                        continue
                async with pool.acquire() as conn:
                    try:
                        await pg_book(conn, pid, aid, sid, sold_out, key)
                        decisions += 1
                        break
                    except Refused:
                        decisions += 1

    start = time.perf_counter()
    await asyncio.gather(*[client(n) for n in range(concurrency)])
    seconds = time.perf_counter() - start
    await pool.close()
    return decisions, seconds


def run_sqlite(
    path: str, *, patient_ids: list[str], session_ids: list[str], seed: int, max_tries: int
) -> tuple[int, float]:
    """SQLite serialises writers, so its limit is one connection doing the statements in turn."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    rng = random.Random(seed)
    decisions = 0
    start = time.perf_counter()
    for pid in patient_ids:
        p = uuid.UUID(pid).hex
        for sid in rng.sample(session_ids, min(max_tries, len(session_ids))):
            s = uuid.UUID(sid).hex
            decisions += 1
            if _sqlite_book(conn, p, s):
                break
    return decisions, time.perf_counter() - start


def _sqlite_book(conn: sqlite3.Connection, p: str, s: str) -> bool:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    key = uuid.uuid4().hex
    conn.execute("BEGIN IMMEDIATE")
    try:
        account = conn.execute("SELECT id FROM account WHERE patient_id = ?", (p,)).fetchone()[0]
        conn.execute("INSERT INTO idempotency_record VALUES (?, ?, 'raw', 0, '{}', ?)", (account, key, now))
        conn.execute(
            "SELECT id, registered_campus_id, verified_at FROM patient WHERE id = ?", (p,)
        ).fetchone()
        conn.execute(
            "INSERT INTO audit_event (id, at, actor_roles, patient_id, action, resource_type, resource_id,"
            " outcome) VALUES (?, ?, 'patient', ?, 'book', 'patient', ?, 'allowed')",
            (uuid.uuid4().hex, now, p, p),
        )
        dept, day, taken, suspended = conn.execute(
            "SELECT cs.department_id, cs.session_on, EXISTS (SELECT 1 FROM booking b WHERE b.patient_id = ?"
            " AND b.department_id = cs.department_id AND b.session_on = cs.session_on"
            f" AND {active_booking_sql('b.status')}),"
            " (SELECT ends_at FROM booking_suspension WHERE patient_id = ? AND ends_at > ?)"
            " FROM clinic_session cs WHERE cs.id = ?",
            (p, p, now, s),
        ).fetchone()
        if taken or suspended:
            conn.execute("ROLLBACK")
            return False
        row = conn.execute(
            "SELECT id FROM slot WHERE session_id = ? AND booked < capacity AND starts_at > ? "
            "ORDER BY starts_at, id LIMIT 1",
            (s, now),
        ).fetchone()
        if row is None:
            conn.execute("ROLLBACK")
            return False
        conn.execute("UPDATE slot SET booked = booked + 1 WHERE id = ? AND booked < capacity", (row[0],))
        booking = uuid.uuid4().hex
        if (
            conn.execute(
                "INSERT INTO booking (id, slot_id, session_id, patient_id, department_id, session_on, status,"
                " channel, booked_by_account_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'booked', 'online', ?, ?)"
                f" ON CONFLICT (patient_id, department_id, session_on) WHERE {active_booking_sql()}"
                " DO NOTHING RETURNING id",
                (booking, row[0], s, p, dept, day, account, now),
            ).fetchone()
            is None
        ):
            conn.execute("ROLLBACK")
            return False
        payload = json.dumps({"booking_id": booking})
        conn.execute(
            "INSERT INTO outbox_event (id, topic, payload, created_at, available_at, attempts)"
            " VALUES (?, 'scheduling.booking_created', ?, ?, ?, 0)",
            (uuid.uuid4().hex, payload, now, now),
        )
        conn.execute(
            "UPDATE idempotency_record SET status_code = 201, response = ? WHERE account_id = ? AND key = ?",
            (payload, account, key),
        )
        conn.execute("COMMIT")
        return True
    except Exception:
        conn.execute("ROLLBACK")
        raise
