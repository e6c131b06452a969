"""The release draw (放号抽签): fairness when a release is rushed.

When a popular clinic's places are released (say 08:00), far more people press "book" in the
first seconds than there are places, and under first come, first served whoever has the
fastest connection or a script wins. Zhiyi instead treats every request of the first
`release_draw_seconds` after the release instant as arriving at the same moment (a batch
lottery in the sense of Hakimov, Heller, Kübler and Kurino, AER 2021):

- each patient gets ONE ticket per release instant: a number in [0, 1) from a keyed hash of
  the release instant and the patient (unpredictable without the server's secret, the same
  however often they ask), stored as their draw entry;
- a second request for the same patient during the window with a different Idempotency-Key
  is refused (`already_in_draw`); a retry with the same key simply waits for its answer;
- when the window closes, requests are served in ticket order: each waits until
  `window + ticket x release_draw_spread_seconds` after the release and then books as usual,
  so the places go to the lowest tickets;
- a request after the window waits until the draw has been served (window + spread), so
  asking just after the window, or again with a new key, overtakes nobody in the draw;
- after that, booking is first come, first served again (nothing is rushed by then).

So sending more requests, sending them earlier in the window or from faster machines does
not raise a patient's chance; only the ticket decides. Per-account rate limits
(core/ratelimit.py) bound the load any one account can put on the booking endpoint. Waiting
holds no database connection. With `release_draw_seconds = 0` the draw is off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, security
from zhiyi.core.config import get_settings
from zhiyi.core.policy import Actor, Role
from zhiyi.core.ratelimit import Limiter
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import draw_repository as repo
from zhiyi.domains.scheduling.errors import AlreadyInDraw

TICKET_DIGITS = 13  # 52 bits of the hash: a float in [0, 1) without rounding
_booking_limit: Limiter | None = None
COUNTED = "booking_counted"  # request state: counted against the booking limit already (by the rush lane)


def limit(actor: Actor) -> None:
    """Count a patient account's booking request (desks and phone agents book for many, so they are not
    limited); over `booking_requests_per_minute` the answer is 429 with Retry-After."""
    global _booking_limit
    if not actor.has(Role.patient):
        return
    if _booking_limit is None:
        _booking_limit = Limiter(get_settings().booking_requests_per_minute, 60)
    _booking_limit.hit(actor.account_id)


def ticket(patient_id: uuid.UUID, release_at: dt.datetime) -> float:
    digest = security.keyed_hash(
        get_settings().secret_key, "release-draw", f"{release_at.astimezone(dt.UTC).isoformat()}|{patient_id}"
    )
    return int(digest[:TICKET_DIGITS], 16) / 16**TICKET_DIGITS


def served_seconds() -> float:
    """How long after a release instant its draw is being served (window and spread); 0: no draw."""
    s = get_settings()
    return s.release_draw_seconds + s.release_draw_spread_seconds if s.release_draw_seconds > 0 else 0.0


def in_window(release_at: dt.datetime, now: dt.datetime) -> bool:
    return release_at <= now < release_at + dt.timedelta(seconds=get_settings().release_draw_seconds)


async def wait_turn(
    session: AsyncSession,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    slot_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    idempotency_key: str,
) -> float | None:
    """During a release's draw window: enter the patient's ticket, commit, and wait for the turn
    the ticket gives. After the window, while the draw is still being served: wait until it is
    (nobody overtakes the draw by asking just after the window). Later: return at once.
    Returns the ticket (None: not in the draw)."""
    settings = get_settings()
    if settings.release_draw_seconds <= 0:
        return None
    release_at = await repo.release_at_of(session, slot_id=slot_id, session_id=session_id)
    now = clock.now()
    if release_at is None or now < release_at:
        return None
    served_until = release_at + dt.timedelta(seconds=served_seconds())
    if not in_window(release_at, now):
        if now < served_until:  # the draw is still being served: later requests come after all of it
            await session.commit()
            await asyncio.sleep((served_until - now).total_seconds())
        return None
    await patients.access_patient(session, actor=actor, patient_id=patient_id, action="book")
    mine = ticket(patient_id, release_at)
    earlier_key = await repo.enter(
        session, release_at=release_at, patient_id=patient_id, ticket=mine, key=idempotency_key, now=now
    )
    if earlier_key is not None and earlier_key != idempotency_key:
        raise AlreadyInDraw()
    await session.commit()  # the entry stands; no connection is held while waiting
    turn = release_at + dt.timedelta(
        seconds=settings.release_draw_seconds + mine * settings.release_draw_spread_seconds
    )
    delay = (turn - clock.now()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)
    return mine


async def position(
    session: AsyncSession, *, actor: Actor, patient_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[int, int] | None:
    """The patient's place in the draw of this session's release and how many are in it (the
    waiting room's answer); None when they are not in it."""
    await patients.access_patient(session, actor=actor, patient_id=patient_id, action="book")
    release_at = await repo.release_at_of(session, slot_id=None, session_id=session_id)
    if release_at is None:
        return None
    return await repo.position(session, release_at=release_at, patient_id=patient_id)
