"""The no-show policy (爽约): a booking still `booked` when its clinic session has ended (plus a grace) is a
no-show; `no_show_limit` no-shows within `no_show_window_days` suspend the patient's ONLINE
booking (by the patient or a family proxy) for `no_show_suspension_days` from the last one.
Registration desks (and their phone bookings) still book for them.

The suspension is written as one row when the limit is reached, so the booking path checks it
with the real-name rule in one statement (repository.booking_blockers), not by counting history.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.core.config import get_settings
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.scheduling import events
from zhiyi.domains.scheduling import repository as repo
from zhiyi.domains.scheduling import waitlist_repository as wrepo
from zhiyi.domains.scheduling.errors import OnlineBookingSuspended, RealNameRuleViolated
from zhiyi.domains.scheduling.holds import local
from zhiyi.domains.scheduling.models import BookingSuspension

SWEEP_LIMIT = 500


def at_desk(actor: Actor) -> bool:
    """A registrar booking for a patient (at a desk or on the phone), not a patient or proxy online."""
    return actor.patient_id is None and actor.has(Role.registrar)


async def check_may_book(
    session: AsyncSession, *, actor: Actor, patient_id, department_id, day: dt.date, now: dt.datetime
) -> None:
    """The booking rules of a patient, in one statement: online booking not suspended (desks are
    exempt), no other active booking in the department that day (the real-name rule)."""
    taken, suspended_until = await repo.booking_blockers(
        session, patient_id=patient_id, department_id=department_id, day=day, now=now
    )
    refuse_if_blocked(actor, taken=taken, suspended_until=suspended_until)


def refuse_if_blocked(actor: Actor, *, taken: bool, suspended_until: dt.datetime | None) -> None:
    """The rules of check_may_book, on blockers already read (the booking path reads them with its
    session: repository.booking_target)."""
    if suspended_until is not None and not at_desk(actor):
        raise OnlineBookingSuspended(params={"until": local(suspended_until)})
    if taken:
        raise RealNameRuleViolated()


async def mark_no_shows(session: AsyncSession, now: dt.datetime, *, limit: int = SWEEP_LIMIT) -> int:
    """Mark the bookings nobody came to and apply the policy (a periodic job; safe in several
    processes: one conditional UPDATE per booking, and markings are serialised so that the counts
    of one patient's no-shows always see each other). Returns how many were marked."""
    s = get_settings()
    ended_before = now - dt.timedelta(minutes=s.no_show_grace_minutes)
    last_day = ended_before.astimezone(ZoneInfo(s.timezone)).date()
    due = await wrepo.overdue_bookings(session, ended_before=ended_before, last_day=last_day, limit=limit)
    if not due:
        return 0
    await wrepo.serialize_no_show_marking(session)
    marked = await wrepo.mark_no_shows(session, due)
    for row in marked:
        await outbox.publish(
            session,
            events.BOOKING_NO_SHOW,
            {
                "booking_id": str(row.id),
                "patient_id": str(row.patient_id),
                "slot_id": str(row.slot_id),
                "session_id": str(row.session_id),
            },
        )
    for patient_id in dict.fromkeys(row.patient_id for row in marked):
        await _apply_policy(session, patient_id, now)
    return len(marked)


async def _apply_policy(session: AsyncSession, patient_id, now: dt.datetime) -> None:
    s = get_settings()
    count, latest = await wrepo.no_shows_since(
        session, patient_id, now - dt.timedelta(days=s.no_show_window_days)
    )
    if count < s.no_show_limit or latest is None:
        return
    ends_at = latest + dt.timedelta(days=s.no_show_suspension_days)
    if ends_at <= now:
        return
    suspension = await wrepo.get_suspension(session, patient_id)
    if suspension is None:
        await wrepo.add_suspension(
            session,
            BookingSuspension(
                patient_id=patient_id, starts_at=now, ends_at=ends_at, no_shows=count, updated_at=now
            ),
        )
    elif suspension.ends_at < ends_at:
        if suspension.ends_at <= now:  # an old suspension that had ended: this is a new one
            suspension.starts_at = now
        suspension.ends_at, suspension.no_shows, suspension.updated_at = ends_at, count, now
    else:
        return
    await outbox.publish(
        session,
        events.ONLINE_BOOKING_SUSPENDED,
        {"patient_id": str(patient_id), "ends_at": ends_at.isoformat(), "no_shows": count},
    )


async def suspended_until(session: AsyncSession, *, patient_id, now: dt.datetime) -> dt.datetime | None:
    """The end of the patient's online-booking suspension, or None when they may book online."""
    suspension = await wrepo.get_suspension(session, patient_id)
    return suspension.ends_at if suspension is not None and suspension.ends_at > now else None
