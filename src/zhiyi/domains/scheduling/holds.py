"""Held places of the waiting lists (候补).

A place freed in a full clinic session (a cancellation, a declined or expired offer) does not go
back on open sale while patients wait: it is offered to the first eligible patient in line and
held for them for `waitlist_hold_minutes`; the slot's `booked` counter keeps counting it, so
nobody else can take it. When the hold runs out or is declined the place goes to the next in
line, and back on open sale when nobody waits.

Why one place never goes to two people, on one SQLite process or several PostgreSQL ones:
- every change to a session's line (a join, an offer, a decline, an expiry) first takes that
  session's row lock (PostgreSQL; SQLite has one writer), so offers of one session never race;
- every change of an entry is one conditional UPDATE on its status; an accept (which takes no
  session lock) races only with the expiry or decline of its own offer, and the status decides;
- a sweep locks the sessions it touches in id order, so sweeps in several processes never deadlock.
Expiry needs no page to be opened: `expire_holds` runs as a periodic job of every worker (jobs.py),
and so does `fill_free_places`, a safety net for any path that puts a place straight back on sale
(or a waiting patient who may take a place again) while patients wait.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import notify, outbox
from zhiyi.core.config import get_settings
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import events
from zhiyi.domains.scheduling import repository as repo
from zhiyi.domains.scheduling import waitlist_repository as wrepo
from zhiyi.domains.scheduling.models import ClinicSession, SessionStatus, Slot, WaitlistEntry, WaitlistStatus

OFFER_TEMPLATE = "waitlist.offer"
MAX_OFFER_TRIES = 20  # a candidate can only slip away by leaving the line at that very moment
SWEEP_LIMIT = 200


def local(at: dt.datetime) -> str:
    """A time as the hospital's clocks show it (in messages: the same in every language)."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


async def lock_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    """The lock every change to a session's line (and to its bookings' places) takes first."""
    await wrepo.lock_sessions(session, [session_id])


async def pass_place(
    session: AsyncSession, *, slot: Slot, cs: ClinicSession, now: dt.datetime, locked: bool = False
) -> uuid.UUID | None:
    """A place of `slot` is free (still counted by the slot): hold it for the next patient in line,
    or give it back to open sale. Returns the entry it was offered to, or None."""
    if not locked:
        await wrepo.lock_sessions(session, [cs.id])
    if cs.status == SessionStatus.open and slot.starts_at > now:
        hold_until = min(now + dt.timedelta(minutes=get_settings().waitlist_hold_minutes), slot.starts_at)
        for _ in range(MAX_OFFER_TRIES):
            entry = await wrepo.next_in_line(session, cs.id, now)
            if entry is None:
                break
            if await wrepo.make_offer(session, entry.id, slot_id=slot.id, now=now, hold_until=hold_until):
                await _offered(session, entry, slot, cs, hold_until)
                return entry.id
    await repo.give_back_place(session, slot.id)
    return None


async def _offered(
    session: AsyncSession, entry: WaitlistEntry, slot: Slot, cs: ClinicSession, hold_until: dt.datetime
) -> None:
    await outbox.publish(
        session,
        events.PLACE_OFFERED,
        {
            "entry_id": str(entry.id),
            "patient_id": str(entry.patient_id),
            "slot_id": str(slot.id),
            "session_id": str(cs.id),
            "hold_expires_at": hold_until.isoformat(),
        },
    )
    patient = await patients.get_patient(session, patient_id=entry.patient_id)
    # the patient's own phone; a child without one is told through the account that put them in line
    to = patient.phone or str(entry.joined_by_account_id)
    s = get_settings()
    await notify.enqueue(
        session,
        s.notification_channel,
        notify.Message(
            to=to,
            template=OFFER_TEMPLATE,
            params={"name": patient.name, "when": local(slot.starts_at), "until": local(hold_until)},
            locale=s.default_locale,
        ),
    )


async def close_offer(session: AsyncSession, *, entry: WaitlistEntry, status: str, now: dt.datetime) -> bool:
    """Decline (or expire) an open offer and pass its place on; False when it was no longer open.
    Takes the session's lock first, like every change to a line."""
    await wrepo.lock_sessions(session, [entry.session_id])
    return await _close(session, entry.id, status=status, now=now, expired_only=False)


async def _close(
    session: AsyncSession, entry_id: uuid.UUID, *, status: str, now: dt.datetime, expired_only: bool
) -> bool:
    slot_id = await wrepo.close_offer(session, entry_id, status=status, now=now, expired_only=expired_only)
    if slot_id is None:
        return False
    slot, cs = await repo.slot_with_session(session, slot_id)
    entry = await wrepo.get_entry(session, entry_id)
    await outbox.publish(
        session,
        events.OFFER_CLOSED,
        {
            "entry_id": str(entry_id),
            "patient_id": str(entry.patient_id),
            "slot_id": str(slot_id),
            "session_id": str(cs.id),
            "status": status,
        },
    )
    await pass_place(session, slot=slot, cs=cs, now=now, locked=True)
    return True


async def expire_holds(session: AsyncSession, now: dt.datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Expire the holds that ran out and pass their places on (a periodic job; safe to run in several
    processes at once: the loser of a race finds the offer closed and does nothing). Returns how many."""
    due = await wrepo.overdue_holds(session, now, limit)
    if not due:
        return 0
    await wrepo.lock_sessions(session, sorted({row.session_id for row in due}))
    expired = 0
    for row in due:
        if await _close(session, row.id, status=WaitlistStatus.expired.value, now=now, expired_only=True):
            expired += 1
    return expired


async def fill_free_places(session: AsyncSession, now: dt.datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Hold the places on open sale in sessions where eligible patients wait, for them in line order;
    close the lines of sessions that were stopped or are over. Returns how many places were offered."""
    await wrepo.close_lines(session, now)
    found = await wrepo.lines_beside_free_places(session, now, limit)
    if not found:
        return 0
    session_ids = sorted(found)
    await wrepo.lock_sessions(session, session_ids)
    offered = 0
    for session_id in session_ids:
        cs = await repo.get_session(session, session_id)
        while (entry := await wrepo.next_in_line(session, session_id, now)) is not None:
            taken = await repo.take_place_in_session(session, session_id, now)
            if taken is None:
                break
            hold_until = min(
                now + dt.timedelta(minutes=get_settings().waitlist_hold_minutes), taken.starts_at
            )
            if not await wrepo.make_offer(
                session, entry.id, slot_id=taken.id, now=now, hold_until=hold_until
            ):
                await repo.give_back_place(session, taken.id)  # they left the line this instant
                continue
            await _offered(session, entry, taken, cs, hold_until)
            offered += 1
    return offered
