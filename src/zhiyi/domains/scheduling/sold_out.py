"""Sold-out sessions (已约满): the rush's common answer, cheaply and still exactly.

At a release of 1,000 places to 5,000 patients, nine answers in ten are "full". Asked the usual
way, each costs the whole booking transaction: the Idempotency-Key claimed, the patient loaded and
the access audited, the session and the patient's blockers read, a place looked for, and a
rollback. So each server process notes the sessions it has seen sold out (a hint, kept for
`HINT_SECONDS`), and a patient's own booking of a noted session first asks one question on the
database driver (a PostgreSQL function, migration 0010), asked by the rush lane (rush_lane.py)
before the request reaches the web framework, in one round trip with the questions of other
requests that came meanwhile (`batches.py`):

- claim the request's Idempotency-Key (as every booking does: a request with this key still being
  answered is waited for, and one already answered is replayed by the usual path below);
- is the session still open, released and not over, with no place free at all (a place another
  booking holds uncommitted counts as free, since that booking may yet roll back)?

The function undoes its claim before it returns. Claimed and sold out: the answer is "full"
(a "full" is never stored under a key, as on the usual path). A key answered before goes the usual
way (which replays its answer). Otherwise (a place was given back, the session was stopped or
moved) the hint is forgotten and the booking goes the usual way. So a hint only ever costs one
short statement; it never decides an answer on its own.

What the short path does not look at: whether the patient is verified, suspended after no-shows,
or already booked that day in the department. "Full" is true for them too. A desk or a family
member booking for someone else always goes the usual way (whom one may book for is checked first).
SQLite (the one-process tier) always goes the usual way.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from zhiyi.core import idempotency
from zhiyi.domains.scheduling import batches

HINT_SECONDS = 60.0  # a session seen sold out is asked about the short way this long
MAX_HINTS = 10_000  # sessions of one day's releases; beyond this the oldest are dropped
_hints: dict[uuid.UUID, float] = {}  # session -> monotonic time the hint lapses

# migrations 0010 and 0011: claims the key (waiting at most 50 ms for a request with the same key),
# reads the session, undoes the claim, each question in its own subtransaction (so none holds a
# claim while the next is asked); the questions of a batch in one round trip, answers in their order
QUESTION_FIELDS = 5  # account, key, request hash, session, now
_ASK_MANY = ("SELECT scheduling_ask_sold_out(q.account, q.key, q.hash, q.session, q.now) "
            "FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::timestamptz[]) WITH ORDINALITY "
            "AS q(account, key, hash, session, now, n) ORDER BY q.n")


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


async def refuse(engine: AsyncEngine, *, account_id: uuid.UUID, key: str, request: dict,
                 session_id: uuid.UUID | None, now: dt.datetime) -> bool:
    """True when this booking of a noted session is answered "full" (see the module's text);
    False: book the usual way. Asked before the request holds a connection of the pool (the rush
    lane asks it before the framework), so it cannot wait on itself."""
    if not noted(session_id) or engine.dialect.name != "postgresql":
        return False
    try:
        outcome = await _batcher(engine).ask((account_id, key, idempotency.request_hash(request), session_id, now))
    except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError, DBAPIError, batches.NoAnswer):
        return False  # the usual path meets the same trouble and handles it as it does
    if outcome == "ask_again":
        forget(session_id)
    # 'key_used' (answered before) and 'busy' (a request with this key is being answered: waited
    # for at most 50 ms, migration 0011) go the usual way, which replays or waits for that answer
    return outcome == "full"


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
