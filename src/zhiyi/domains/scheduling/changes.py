"""Stopping (停诊) and moving clinic sessions: the patients booked are rebooked or told, never
left holding a place in a clinic that will not happen.

Stopping: the session's status changes by one conditional UPDATE, its slots are locked (so a
booking in flight either finishes first and is seen here, or waits and then finds the slot
closed), every active booking is cancelled and the patient is moved to the earliest place of
the same department and campus (the same day first, then the same doctor, then any doctor,
within two weeks) that the real-name rule allows, and told either way through the
notification channel. Moving shifts the session and its slots; bookings follow, except where
the new day would break the real-name rule: those are cancelled and the patient is told.
Services never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, ids, notify, outbox
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import changes_repository as crepo
from zhiyi.domains.scheduling import events, holds, overlap, service
from zhiyi.domains.scheduling import repository as repo
from zhiyi.domains.scheduling.errors import DoctorBusy, MoveInPast, MoveTooFar, SessionClosed, SessionNotFound
from zhiyi.domains.scheduling.models import Booking, BookingStatus, ClinicSession

REBOOK_DAYS = 14
MOVE_DAYS = 90  # a clinic moves within the next three months
TEMPLATES = ("session.stopped.rebooked", "session.stopped", "session.moved", "session.moved.cancelled")


@dataclass
class ChangeResult:
    session_id: uuid.UUID
    rebooked: list[uuid.UUID] = field(default_factory=list)  # new booking ids
    cancelled: list[uuid.UUID] = field(default_factory=list)  # bookings with no new place (patients told)
    moved: list[uuid.UUID] = field(default_factory=list)  # bookings that followed a moved session


def _may_change(actor: Actor, cs: ClinicSession) -> None:
    """The clinic office: an admin or a registrar of the session's campus (or group-wide)."""
    if not (actor.has(Role.admin) or actor.has(Role.registrar)):
        raise Forbidden()
    if not (actor.group_wide or cs.campus_id in actor.campus_ids):
        raise Forbidden()


async def _load(session: AsyncSession, actor: Actor, session_id: uuid.UUID) -> ClinicSession:
    cs = await repo.get_session(session, session_id)
    if cs is None:
        raise SessionNotFound()
    _may_change(actor, cs)
    return cs


async def _tell(session: AsyncSession, booking: Booking, template: str, **params: str) -> None:
    patient = await patients.get_patient(session, patient_id=booking.patient_id)
    s = get_settings()
    await notify.enqueue(
        session,
        s.notification_channel,
        notify.Message(
            to=patient.phone or str(booking.booked_by_account_id),
            template=template,
            params={"name": patient.name, **params},
            locale=s.default_locale,
        ),
    )


async def stop_session(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID) -> ChangeResult:
    cs = await _load(session, actor, session_id)
    if not await crepo.mark_stopped(session, cs.id):
        raise SessionClosed()
    await crepo.lock_slots(session, cs.id)
    result, now = ChangeResult(cs.id), clock.now()
    old_slots = {s.id: s.starts_at for s in await repo.slots_of(session, cs.id)}
    for booking in await crepo.active_bookings(session, cs.id):
        if not await repo.mark_cancelled(session, booking.id, now):
            continue
        when = holds.local(old_slots[booking.slot_id])
        moved = await _rebook(session, actor, booking, cs, now)
        if moved is None:
            result.cancelled.append(booking.id)
            await _tell(session, booking, "session.stopped", when=when)
        else:
            result.rebooked.append(moved.id)
            await _tell(
                session, booking, "session.stopped.rebooked", when=when, new_when=holds.local(moved.starts_at)
            )
    await crepo.close_slots(session, cs.id)
    await outbox.publish(
        session,
        events.SESSION_STOPPED,
        {"session_id": str(cs.id), "rebooked": len(result.rebooked), "cancelled": len(result.cancelled)},
    )
    return result


async def _rebook(
    session: AsyncSession, actor: Actor, booking: Booking, stopped: ClinicSession, now: dt.datetime
):
    """The earliest place the patient may take in another session of the department and campus."""
    found = await service.find_sessions(
        session,
        department_id=stopped.department_id,
        campus_id=stopped.campus_id,
        first=stopped.session_on,
        last=stopped.session_on + dt.timedelta(days=REBOOK_DAYS),
    )
    candidates = [
        s
        for s in found
        if s.id != stopped.id
        and s.department_id == stopped.department_id
        and s.available > 0
        and s.released
        and s.starts_at > now
    ]
    candidates.sort(
        key=lambda s: (
            s.session_on != stopped.session_on,
            s.practitioner_id != stopped.practitioner_id,
            s.starts_at,
        )
    )
    for s in candidates:
        if await repo.has_active_booking(
            session, patient_id=booking.patient_id, department_id=s.department_id, day=s.session_on
        ):
            continue
        taken = await _free_time(session, booking.patient_id, s, now)
        if taken is None:
            continue
        values = {
            "id": ids.new_id(),
            "slot_id": taken.id,
            "session_id": s.id,
            "patient_id": booking.patient_id,
            "department_id": s.department_id,
            "session_on": s.session_on,
            "status": BookingStatus.booked.value,
            "channel": "desk",
            "booked_by_account_id": actor.account_id,
            "created_at": now,
        }
        try:
            async with session.begin_nested():
                await repo.insert_booking(session, values)
        except IntegrityError:  # the patient booked that day meanwhile: the place goes back
            await repo.give_back_place(session, taken.id)
            continue
        await outbox.publish(
            session,
            events.BOOKING_CREATED,
            {
                "booking_id": str(values["id"]),
                "patient_id": str(booking.patient_id),
                "slot_id": str(taken.id),
                "session_id": str(s.id),
                "replaces": str(booking.id),
            },
        )
        return taken
    return None


async def _free_time(session: AsyncSession, patient_id: uuid.UUID, s, now: dt.datetime):
    """The earliest place of session `s` at a time the patient has no other booking (taken), or None."""
    after = now
    while (taken := await repo.take_place_in_session(session, s.id, after)) is not None:
        if (
            await overlap.same_time(
                session,
                patient_id=patient_id,
                starts_at=taken.starts_at,
                ends_at=taken.ends_at,
                day=s.session_on,
            )
            is None
        ):
            return taken
        await repo.give_back_place(session, taken.id)  # the patient is elsewhere then: a later time
        after = taken.starts_at
    return None


def _period(t: dt.time) -> str:
    return "am" if t < dt.time(12, 0) else "pm" if t < dt.time(18, 0) else "evening"


async def move_session(
    session: AsyncSession, *, actor: Actor, session_id: uuid.UUID, starts_at: dt.datetime
) -> ChangeResult:
    cs = await _load(session, actor, session_id)
    if cs.status != "open":
        raise SessionClosed()
    now = clock.now()
    if starts_at <= now:
        raise MoveInPast()
    if starts_at > now + dt.timedelta(days=MOVE_DAYS):
        raise MoveTooFar()
    local = starts_at.astimezone(ZoneInfo(get_settings().timezone))
    day, period = local.date(), cs.period if cs.period == "extra" else _period(local.time())
    if await crepo.doctor_busy(
        session, practitioner_id=cs.practitioner_id, day=day, period=period, besides=cs.id
    ):
        raise DoctorBusy()
    await holds.lock_session(session, cs.id)  # first, as cancelling does: the session, then its slots
    slots = await crepo.lock_slots(session, cs.id)
    result, delta = ChangeResult(cs.id), starts_at - cs.starts_at
    cs.period = period
    old = {s.id: s.starts_at for s in slots}
    bookings = await crepo.active_bookings(session, cs.id)
    freed = []
    for booking in bookings:  # the real-name rule on the new day: such bookings cannot follow
        if day != cs.session_on and await crepo.other_active_booking(
            session,
            patient_id=booking.patient_id,
            department_id=cs.department_id,
            day=day,
            besides=booking.id,
        ):
            if await repo.mark_cancelled(session, booking.id, now):
                freed.append(booking.slot_id)
                result.cancelled.append(booking.id)
                await outbox.publish(
                    session,
                    events.BOOKING_CANCELLED,
                    {
                        "booking_id": str(booking.id),
                        "patient_id": str(booking.patient_id),
                        "slot_id": str(booking.slot_id),
                        "session_id": str(cs.id),
                    },
                )
                await _tell(
                    session, booking, "session.moved.cancelled", when=holds.local(old[booking.slot_id])
                )
    await crepo.shift(session, cs, slots, delta, day)
    by_id = {s.id: s for s in slots}
    for slot_id in freed:  # to the first in the session's waiting list, or back on sale
        await holds.pass_place(session, slot=by_id[slot_id], cs=cs, now=now)
    for booking in bookings:
        if booking.id not in result.cancelled:
            result.moved.append(booking.id)
            await _tell(
                session,
                booking,
                "session.moved",
                when=holds.local(old[booking.slot_id]),
                new_when=holds.local(old[booking.slot_id] + delta),
            )
    await outbox.publish(
        session, events.SESSION_MOVED, {"session_id": str(cs.id), "delta_seconds": delta.total_seconds()}
    )
    return result
