"""A patient's own booking of a clinic session in one statement (PostgreSQL; migration 0012).

In a release rush most bookings are one shape: a patient books the earliest free time of a session
for themself, online. The usual path (service.book_slot behind the framework's route) spends about
3 ms of a server process's CPU on one: eight statements through the ORM's session, each a round trip,
and the framework around them. At 500 clients that made the first second of a release answer 200-500
requests, so patients waited over a second. The rush lane (rush_lane.py) hands this shape here
before the framework, and the whole booking is one call of the function `scheduling_book_own`, asked
in one round trip with the bookings of other requests that came meanwhile (batches.py):

- claim the Idempotency-Key; the session open, released (its draw over, draw.py), not over; the
  patient verified, not suspended after no-shows, without a booking in that department that day;
- take the earliest free place no other booking holds; insert the booking, the audit row of the
  patient's access (core/audit.py) and the outbox event (core/outbox.py), as the usual path does;
- store the answer (BookingRead) under the key, and return it.

Anything else goes the usual way, undone, and the usual path explains it or waits for it: a key
answered before or still being answered, a refusal the patient should hear by name, a place held
by a booking not yet committed, any error. "Full" (no place free at all, held ones included) is
answered here, and the session is noted sold out (sold_out.py). Whom the patient may book for needs
no database here: their own record (patients/policy.py); the rush lane checks that first.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from zhiyi.core import ids, requestctx
from zhiyi.core.config import get_settings
from zhiyi.core.policy import Actor
from zhiyi.domains.scheduling import batches, sold_out

_BOOK_MANY = (
    "SELECT scheduling_book_own(q.account, q.key, q.hash, q.patient, q.session, q.now, q.draw, q.zone, q.booking, "
    "q.event, q.audit, q.roles, q.request, q.client) "
    "FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::uuid[], $6::timestamptz[], $7::float8[], "
    "$8::text[], $9::uuid[], $10::uuid[], $11::uuid[], $12::varchar[], $13::varchar[], $14::varchar[]) WITH ORDINALITY "
    "AS q(account, key, hash, patient, session, now, draw, zone, booking, event, audit, roles, request, client, n) "
    "ORDER BY q.n")


def on(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql" and get_settings().own_booking_in_one_statement


def draw_seconds() -> float:
    """How long after a release its draw holds bookings (draw.py): until then, the usual way."""
    s = get_settings()
    return s.release_draw_seconds + s.release_draw_spread_seconds if s.release_draw_seconds > 0 else 0.0


async def book(engine: AsyncEngine, *, actor: Actor, key: str, request_hash: str, session_id: uuid.UUID,
               now: dt.datetime) -> dict | str | None:
    """The booking's answer (BookingRead's JSON data), 'full', or None: book the usual way. For a
    patient's own online booking of `session_id`; asked before the request holds a connection."""
    question = (actor.account_id, key, request_hash, actor.patient_id, session_id, now, draw_seconds(),
                get_settings().timezone, ids.new_id(), ids.new_id(), ids.new_id(), ",".join(sorted(actor.roles)),
                requestctx.request_id.get(), requestctx.client_addr.get())
    try:
        outcome = await _batcher(engine).ask(question)
    except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError, DBAPIError):
        return None  # the usual path meets the same trouble and handles it as it does (a key kept is replayed)
    if outcome.startswith("{"):
        return json.loads(outcome)
    if outcome == "full":
        sold_out.note(session_id)
        return "full"
    return None  # 'usual', 'busy'


async def book_many(driver: asyncpg.Connection, questions: list[tuple]) -> list[str]:
    """One batch's bookings in one round trip on a driver connection: their outcomes, in order."""
    rows = await driver.fetch(_BOOK_MANY, *[list(column) for column in zip(*questions, strict=True)])
    return [row[0] for row in rows]


async def _pool_round_trip(engine: AsyncEngine, questions: list[tuple]) -> list[str]:
    return await batches.pool_round_trip(engine, book_many, questions)


_batcher = batches.per_engine(lambda engine, questions: _pool_round_trip(engine, questions))
