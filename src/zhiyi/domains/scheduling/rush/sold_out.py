"""Sold-out sessions (已约满): the rush's common answer, cheaply and still exactly.

At a release of 1,000 places to 5,000 patients, nine answers in ten are "full". Asked the usual
way, each costs the whole booking transaction: the Idempotency-Key claimed, the patient loaded and
the access audited, the session and the patient's blockers read, a place looked for, and a
rollback. So each server process notes the sessions it has seen sold out (a hint, kept for
`HINT_SECONDS`), and a patient's own booking of a noted session first asks one question on the
database driver (a PostgreSQL function, migrations 0010, 0011 and 0013), asked by the rush lane (rush_lane.py)
before the request reaches the web framework, in one round trip with the questions of other
requests that came meanwhile (`batches.py`):

- claim the request's Idempotency-Key (as every booking does: a request with this key still being
  answered is waited for at most 50 ms, and one already answered is replayed, see below);
- is the session still open, released and not over, with no place free at all (a place another
  booking holds uncommitted counts as free, since that booking may yet roll back)?
- would the usual path tell this patient "full", or name a reason of their own first: not verified,
  online booking suspended after no-shows, or a booking in that department that day already
  (migration 0013)?

The function undoes its claim before it returns. Claimed, sold out and nothing of the patient's
own in the way: the answer is "full" (a "full" is never stored under a key, as on the usual path).
A key that booked before with the same request gets its stored answer again (a phone resending
after a lost answer); a key answered otherwise goes the usual way, which explains it. The patient's
own reason goes the usual way, which names it (the session stays noted). Otherwise (a place was
given back, the session was stopped or moved) the hint is forgotten and the booking goes the usual
way. So a hint only ever costs one short statement; it never decides an answer on its own.

A desk or a family member booking for someone else always goes the usual way (whom one may book for
is checked first). SQLite (the one-process tier) always goes the usual way.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import NamedTuple

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from zhiyi.core import idempotency
from zhiyi.domains.scheduling.rush import batches

HINT_SECONDS = 60.0  # a session seen sold out is asked about the short way this long
MAX_HINTS = 10_000  # sessions of one day's releases; beyond this the oldest are dropped
_hints: dict[uuid.UUID, float] = {}  # session -> monotonic time the hint lapses

# migrations 0010, 0011 and 0013: claims the key (waiting at most 50 ms for a request with the same key),
# reads the session and the patient, undoes the claim, each question in its own subtransaction (so none
# holds a claim while the next is asked); the questions of a batch in one round trip, answers in their order
QUESTION_FIELDS = 6  # account, key, request hash, patient, session, now
_ASK_MANY = (
    "SELECT scheduling_ask_sold_out(q.account, q.key, q.hash, q.patient, q.session, q.now) "
    "FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::uuid[], $6::timestamptz[]) "
    "WITH ORDINALITY AS q(account, key, hash, patient, session, now, n) ORDER BY q.n"
)
REPLAY = "replay "  # and the stored answer of a key that booked (scheduling_book_own answers the same)


class Booked(NamedTuple):
    """A booking's answer (BookingRead's JSON data): made now, or stored under the request's key."""

    answer: dict
    replayed: bool  # the stored answer of an earlier request with this key


def noted(session_id: uuid.UUID | None) -> bool:
    until = _hints.get(session_id) if session_id is not None else None
    if until is None:
        return False
    if until <= time.monotonic():
        _hints.pop(session_id, None)
        return False
    return True


def note(session_id: uuid.UUID) -> None:
    """The database has just shown this session sold out."""
    if len(_hints) >= MAX_HINTS:
        for old in sorted(_hints, key=_hints.__getitem__)[: MAX_HINTS // 10]:
            del _hints[old]
    _hints[session_id] = time.monotonic() + HINT_SECONDS


def forget(session_id: uuid.UUID) -> None:
    _hints.pop(session_id, None)


def any_noted() -> bool:
    return bool(_hints)


async def answer(
    engine: AsyncEngine,
    *,
    account_id: uuid.UUID,
    patient_id: uuid.UUID,
    key: str,
    request: dict,
    session_id: uuid.UUID | None,
    now: dt.datetime,
) -> Booked | str | None:
    """'full' when this patient's booking of a noted session is answered "full", the stored answer of
    a key that booked (see the module's text), or None: book the usual way. Asked before the request
    holds a connection of the pool (the rush lane asks it before the framework), so it cannot wait on
    itself."""
    if not noted(session_id) or engine.dialect.name != "postgresql":
        return None
    question = (account_id, key, idempotency.request_hash(request), patient_id, session_id, now)
    try:
        outcome = await _batcher(engine).ask(question)
    except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError, DBAPIError, batches.NoAnswer):
        return None  # the usual path meets the same trouble and handles it as it does
    if outcome == "full":
        return "full"
    if outcome.startswith(REPLAY):
        return Booked(json.loads(outcome[len(REPLAY) :]), replayed=True)
    if outcome == "ask_again":
        forget(session_id)
    # 'usual' (the patient's own reason, named there), 'key_used' (answered otherwise before) and 'busy'
    # (a request with this key is being answered: waited for at most 50 ms) go the usual way
    return None


async def ask_many(driver: asyncpg.Connection, questions: list[tuple]) -> list[str | None]:
    """One batch's questions in one round trip on a driver connection: their outcomes, in order."""
    rows = await driver.fetch(_ASK_MANY, *batches.arrays(questions, QUESTION_FIELDS))
    return [row[0] for row in rows]


async def prepare(driver: asyncpg.Connection) -> None:
    """The batched statement, prepared on this connection (an empty batch: no function called)."""
    await ask_many(driver, [])


async def _pool_round_trip(engine: AsyncEngine, questions: list[tuple]) -> list[str | None]:
    return await batches.pool_round_trip(engine, ask_many, questions)


# the round trip looked up when asked (tests count them)
_batcher = batches.per_engine(lambda engine, questions: _pool_round_trip(engine, questions))
