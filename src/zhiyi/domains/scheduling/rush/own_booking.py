"""A patient's own booking of a clinic session in one statement (PostgreSQL; `sql/scheduling_book_own.sql`).

In a release rush most bookings are one shape: a patient books the earliest free time of a session
for themself, online. The usual path (service.book_slot behind the framework's route) spends about
3 ms of a server process's CPU on one: eight statements through the ORM's session, each a round trip,
and the framework around them. At 500 clients that made the first second of a release answer 200-500
requests, so patients waited over a second. The rush lane (lane.py) hands this shape here
before the framework, and the whole booking is one call of the function `scheduling_book_own`, asked
in one round trip with the bookings of other requests that came meanwhile (batches.py):

- claim the Idempotency-Key; the session open, released (its draw over, draw.py), not over; the
  patient verified, not suspended after no-shows, without a booking in that department that day;
- take the earliest free place no other booking holds; insert the booking, the audit row of the
  patient's access (core/audit.py) and the outbox event (core/outbox.py), as the usual path does;
- store the answer (BookingRead) under the key, and return it;
- a key that booked before (with the same request) gets its stored answer again, as the usual path
  replays it (a retry in a rush is common: a phone that lost its answer).

Anything else goes the usual way, undone, and the usual path explains it or waits for it: a key
used for another request, or still being answered after 10 ms of waiting, a refusal the patient
should hear by name, a place still held by a booking not yet committed after asking three times (in
later batches), any error. "Full" (no place free at all, held ones included) is answered here. Whom
the patient may book for needs no database here: their own record (patients/policy.py); the rush lane
checks that first.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import NamedTuple

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from zhiyi.core import audit, clock, ids, requestctx
from zhiyi.core.policy import Actor
from zhiyi.domains.scheduling import draw
from zhiyi.domains.scheduling.rush import batches

QUESTION_FIELDS = 11
_BOOK_MANY = (  # $1-$11: one array element per question; the time and the draw: one for the batch
    "SELECT scheduling_book_own(q.account, q.key, q.hash, q.patient, q.session, $12, $13, "
    "q.booking, q.event, q.audit, q.roles, q.request, q.client) "
    "FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[], "
    "$8::uuid[], $9::varchar[], $10::varchar[], $11::varchar[]) WITH ORDINALITY "
    "AS q(account, key, hash, patient, session, booking, event, audit, roles, request, client, n) "
    "ORDER BY q.n"
)

ERROR_LOG_SECONDS = 10.0
# the last free places of a session held by bookings of other batches not yet committed: asked again
# (in a later batch, by when those have mostly committed, so the place is taken or the session is full),
# at most this often, before the usual way waits for them on a connection of its own
HELD_ASKS = 3
# (asked again at once, in the next batch: waiting 10 ms between asks, for the holders to commit, made
# the rush's p99 worse, 381-410 -> 456 ms, since the last places of a session are held most of the time)
MAX_DRAWS = 10_000  # sessions whose draw is on (a day's releases); beyond this the memo starts afresh
_draws: dict[uuid.UUID, float] = {}  # session -> epoch second its release's draw ends
_last_logged = -ERROR_LOG_SECONDS
log = logging.getLogger("zhiyi.scheduling")


async def book(
    engine: AsyncEngine, *, actor: Actor, key: str, request_hash: str, session_id: uuid.UUID
) -> Booked | str | None:
    """The booking (made now, or by an earlier request with this key), 'full', or None: book the usual
    way. For a patient's own online booking of `session_id`; asked before the request holds a connection."""
    if in_draw(session_id):
        return None
    question = (
        actor.account_id,
        key,
        request_hash,
        actor.patient_id,
        session_id,
        ids.new_id(),
        ids.new_id(),
        ids.new_id(),
        audit.roles_of(actor),
        requestctx.request_id.get(),
        requestctx.client_addr.get(),
    )
    try:
        for _ in range(HELD_ASKS):
            outcome = await _batcher(engine).ask(question)
            if outcome.kind != "held":
                break
    except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError, DBAPIError, batches.NoAnswer):
        return (
            None  # the usual path meets the same trouble and handles it as it does (a key kept is replayed)
        )
    if outcome.kind in ("booked", "replayed"):
        return Booked(outcome.booking, replayed=outcome.kind == "replayed")
    if outcome.kind == "full":
        return "full"
    if outcome.kind == "draw":
        if len(_draws) >= MAX_DRAWS:
            _draws.clear()
        _draws[session_id] = outcome.draw_ends
    elif outcome.kind == "error":
        _log_error(outcome.error)
    return None  # 'usual', 'busy', 'held' (still, after HELD_ASKS), 'draw ..', 'error ..'


def in_draw(session_id: uuid.UUID) -> bool:
    """This session's release draw is still on (the function said so): book the usual way, unasked."""
    ends = _draws.get(session_id)
    if ends is None:
        return False
    if ends > clock.now().timestamp():
        return True
    del _draws[session_id]
    return False


def _log_error(error: str) -> None:
    global _last_logged
    at = time.monotonic()
    if at - _last_logged >= ERROR_LOG_SECONDS:  # one line a while, not one per booking of a rush
        _last_logged = at
        log.error("own booking in one statement failed; booking the usual way: %s", error)


class Booked(NamedTuple):
    """A booking's answer (BookingRead's JSON data): made now, or stored under the request's key."""

    answer: dict
    replayed: bool  # the stored answer of an earlier request with this key


class Outcome(NamedTuple):
    """What the function answered (its JSON object): `kind` is booked | replayed (with `booking`, the
    API's answer) | full | held | busy | usual | draw (with `draw_ends`, epoch seconds) | error (with
    `error`, the SQLSTATE and the database's message)."""

    kind: str
    booking: dict | None = None
    draw_ends: float | None = None
    error: str | None = None

    @classmethod
    def of(cls, answer: str | dict) -> Outcome:
        # a dict on the pool's connections (SQLAlchemy's asyncpg dialect decodes json), text on a bare driver
        found = answer if isinstance(answer, dict) else json.loads(answer)
        error = f"{found['sqlstate']} {found['message']}" if found["outcome"] == "error" else None
        return cls(found["outcome"], found.get("booking"), found.get("draw_ends"), error)


async def book_many(
    driver: asyncpg.Connection, questions: list[tuple], *, draw_hold: float | None = None
) -> list[Outcome]:
    """One batch's bookings in one round trip on a driver connection: their outcomes, in order. The
    time is taken as the batch goes out (a question may have waited for the round trips before it)."""
    rows = await driver.fetch(
        _BOOK_MANY,
        *batches.arrays(questions, QUESTION_FIELDS),
        clock.now(),
        draw.served_seconds() if draw_hold is None else draw_hold,
    )
    return [Outcome.of(row[0]) for row in rows]


async def prepare(driver: asyncpg.Connection) -> None:
    """The batched statement, prepared on this connection (an empty batch: no function called)."""
    await book_many(driver, [], draw_hold=0.0)


async def _pool_round_trip(engine: AsyncEngine, questions: list[tuple]) -> list[Outcome]:
    return await batches.pool_round_trip(engine, book_many, questions)


_batcher = batches.per_engine(lambda engine, questions: _pool_round_trip(engine, questions))
