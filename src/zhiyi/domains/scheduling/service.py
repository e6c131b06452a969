"""Public operations of the scheduling domain: sessions from timetables, availability,
booking and cancellation. Services never commit.

Booking never oversells: one conditional UPDATE takes a place only while `booked <
capacity`, and a partial unique index enforces the real-name rule (one active booking
per patient, department and day), so the database itself refuses every anomaly even
under a registration rush on several app servers.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, ids, outbox
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.core.policy import Actor, Decision, Resource, Role
from zhiyi.domains.org import service as org
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import clinic_day, events, holds, no_shows, overlap, policy, timetable
from zhiyi.domains.scheduling import repository as repo
from zhiyi.domains.scheduling.clinic_day import arrival_opens, days_now, is_now  # noqa: F401  (public through this module)
from zhiyi.domains.scheduling.errors import (
    BookingNotActive,
    BookingNotFound,
    CancelTooLate,
    NotYetReleased,
    PatientNotVerified,
    RealNameRuleViolated,
    SessionClosed,
    SessionNotFound,
    SlotFull,
    SlotInPast,
    SlotNotFound,
)
from zhiyi.domains.scheduling.models import ACTIVE_BOOKING, Booking, BookingStatus, ClinicSession, Slot
from zhiyi.domains.scheduling.schemas import BookingRead, SessionRead, SlotRead
from zhiyi.domains.scheduling.timetable import (  # noqa: F401  (public through this module)
    add_extra_session,
    add_holidays,
    clashing_sessions,
    generate_sessions,
    local_at,
)

DEFAULT_CANCEL_CUTOFF_HOURS = 2
SEARCH_DAYS = 14  # how far ahead patients look for a doctor


async def find_sessions(
    session: AsyncSession,
    *,
    department_id: uuid.UUID | None = None,
    campus_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    first: dt.date,
    last: dt.date,
    title: str | None = None,
    limit: int = 200,
    weekends: bool = False,
    bookable: bool = True,
) -> list[SessionRead]:
    """Open sessions; `weekends`: only those on Saturdays, Sundays and public holidays. `bookable`
    (what patients are shown): only sessions with a time still to come, their capacity and places
    counted over those times; otherwise (a clinic's own day) every session, all its times counted."""
    department_ids = (
        await org.department_subtree_ids(session, department_id=department_id) if department_id else None
    )
    now = clock.now()
    rows = await repo.find_sessions(
        session,
        department_ids=department_ids,
        campus_id=campus_id,
        practitioner_id=practitioner_id,
        first=first,
        last=last,
        limit=limit,
        after=now if bookable else None,
    )
    people = await org.practitioners_by_ids(session, ids={s.practitioner_id for s, _, _ in rows})
    off = await repo.holidays(session, first, last)
    found = [
        _session_read(s, people[s.practitioner_id], capacity, booked, now, holiday=s.session_on in off)
        for s, capacity, booked in rows
        if s.practitioner_id in people and not (title and people[s.practitioner_id].title != title)
    ]
    return [s for s in found if s.holiday or s.session_on.weekday() >= 5] if weekends else found


def _session_read(
    s: ClinicSession, p, capacity: int, booked: int, now: dt.datetime, *, holiday: bool = False
) -> SessionRead:
    return SessionRead(
        id=s.id,
        practitioner_id=s.practitioner_id,
        practitioner_name_zh=p.name_zh,
        practitioner_name_en=p.name_en,
        practitioner_title=p.title,
        department_id=s.department_id,
        campus_id=s.campus_id,
        session_on=s.session_on,
        period=s.period,
        clinic_type=s.clinic_type,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        release_at=s.release_at,
        released=s.release_at <= now,
        capacity=capacity,
        available=capacity - booked,
        status=s.status,
        room_id=s.room_id,
        holiday=holiday,
    )


async def departments_with_sessions(
    session: AsyncSession, *, first: dt.date, last: dt.date
) -> set[uuid.UUID]:
    """Departments holding an open session between the two days (what a patient can look for)."""
    return await repo.departments_with_sessions(session, first=first, last=last)


async def get_session(session: AsyncSession, *, session_id: uuid.UUID) -> SessionRead:
    cs = await repo.get_session(session, session_id)
    people = await org.practitioners_by_ids(session, ids={cs.practitioner_id}) if cs else {}
    if cs is None or cs.practitioner_id not in people:
        raise SessionNotFound()
    slots = await repo.slots_of(session, cs.id)
    return _session_read(
        cs,
        people[cs.practitioner_id],
        sum(s.capacity for s in slots),
        sum(s.booked for s in slots),
        clock.now(),
    )


async def slot_detail(session: AsyncSession, *, slot_id: uuid.UUID) -> tuple[SlotRead, SessionRead]:
    """A slot and the session it belongs to (what a confirmation page shows)."""
    found = await repo.slot_with_session(session, slot_id)
    if found is None:
        raise SlotNotFound()
    slot, cs = found
    return _slot_read(slot), await get_session(session, session_id=cs.id)


def _slot_read(s: Slot) -> SlotRead:
    return SlotRead(
        id=s.id,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        capacity=s.capacity,
        available=s.capacity - s.booked,
    )


async def minutes_per_place(session: AsyncSession, *, session_id: uuid.UUID) -> float | None:
    """The time the timetable gives one patient in a session (its first slot's length over its places)."""
    slot = await repo.first_slot(session, session_id)
    if slot is None or slot.capacity <= 0:
        return None
    return (slot.ends_at - slot.starts_at).total_seconds() / 60 / slot.capacity


async def session_slots(session: AsyncSession, *, session_id: uuid.UUID) -> list[SlotRead]:
    if await repo.get_session(session, session_id) is None:
        raise SlotNotFound()
    return [_slot_read(s) for s in await repo.slots_of(session, session_id)]


# --- booking ------------------------------------------------------------------------------------


def booking_read(b: Booking, slot: Slot, cs: ClinicSession) -> BookingRead:
    return BookingRead(
        id=b.id,
        slot_id=b.slot_id,
        session_id=b.session_id,
        patient_id=b.patient_id,
        department_id=b.department_id,
        practitioner_id=cs.practitioner_id,
        campus_id=cs.campus_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        session_on=b.session_on,
        status=b.status,
        channel=b.channel,
    )


async def book_slot(
    session: AsyncSession,
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    slot_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    channel: str = "online",
) -> BookingRead:
    """Book a place for a patient (oneself, a dependent, or at a desk): a chosen slot, or
    with `session_id` the earliest free time of that clinic session (号序 in order)."""
    patient, decision = await patients.access_patient(
        session, actor=actor, patient_id=patient_id, action="book"
    )
    now = clock.now()
    # one statement: the session (and the chosen slot's start) with the preconditions of rules.py
    cs = await repo.booking_target(
        session, slot_id=slot_id, session_id=session_id, patient_id=patient.id, now=now
    )
    if cs is None:
        raise SlotNotFound()
    if not cs.verified:
        raise PatientNotVerified()
    _check_desk_campus(actor, cs, decision)
    # the database decided the rules (rules.py); here each refusal gets its reason
    if not cs.open:
        raise SessionClosed()
    if cs.bookable_until <= now:  # the chosen time's start, or the session's end (rules.not_over)
        raise SlotInPast()
    if not cs.released:
        raise NotYetReleased()
    no_shows.refuse_if_blocked(actor, taken=cs.taken, suspended_until=cs.suspended_until)
    if slot_id is not None:
        taken = await repo.take_place(session, slot_id)
    else:
        taken = await repo.take_place_in_session(session, cs.id, now)
    if taken is None:
        raise SlotFull()
    if channel == "online" and actor.patient_id is None and actor.has(Role.registrar):
        channel = "desk"
    # about the day (the overlap check looks a day either side); the booking's own is its session's,
    # read when it is written (repository.insert_booking_unless_booked)
    day = taken.starts_at.astimezone(timetable.zone()).date()
    await overlap.refuse_overlap(
        session, patient_id=patient.id, starts_at=taken.starts_at, ends_at=taken.ends_at, day=day
    )
    booking = {
        "id": ids.new_id(),
        "slot_id": taken.id,
        "session_id": cs.id,
        "patient_id": patient.id,
        "department_id": cs.department_id,
        "status": BookingStatus.booked.value,
        "channel": channel,
        "booked_by_account_id": actor.account_id,
        "created_at": now,
    }
    # the real-name index settles a race with a concurrent booking of the same patient (no savepoint:
    # the transaction stays usable for a page that explains the refusal)
    day = await repo.insert_booking_unless_booked(session, booking)
    if day is None:
        raise RealNameRuleViolated()
    await audit.write(
        session,
        actor,
        policy.CREATE,
        policy.KIND,
        booking["id"],
        patient_id=patient.id,
        on_behalf_of=decision.on_behalf_of,
        reason=decision.reason,
    )
    await outbox.publish(
        session,
        events.BOOKING_CREATED,
        {
            "booking_id": str(booking["id"]),
            "patient_id": str(patient.id),
            "slot_id": str(taken.id),
            "session_id": str(cs.id),
        },
    )
    return BookingRead(
        id=booking["id"],
        slot_id=taken.id,
        session_id=cs.id,
        patient_id=patient.id,
        department_id=cs.department_id,
        practitioner_id=cs.practitioner_id,
        campus_id=cs.campus_id,
        starts_at=taken.starts_at,
        ends_at=taken.ends_at,
        session_on=day,
        status=booking["status"],
        channel=channel,
    )


DESK_REASON = policy.DESK_REASON  # patients.policy: the decision that lets a desk act for anyone


def _check_desk_campus(actor: Actor, cs: ClinicSession, decision: Decision) -> None:
    """A registration desk works for its own campuses (patients and proxies are not limited, also
    when a registrar books for themself or their family as a patient)."""
    if decision.reason == DESK_REASON and not actor.group_wide and cs.campus_id not in actor.campus_ids:
        raise Forbidden()


async def access_booking(
    session: AsyncSession, *, actor: Actor, booking: Booking, cs: ClinicSession, action: str
) -> Decision:
    """Decide through core.policy (scheduling/policy.py) whether `actor` may see or act on a booking, and
    audit the attempt: the one gate of every page and route that shows or changes a booking."""
    resource = Resource(
        policy.KIND, booking.id, {"patient_id": booking.patient_id, "campus_id": cs.campus_id}
    )
    return await audit.guard(session, actor, action, resource, patient_id=booking.patient_id)


async def cancel_deadlines(session: AsyncSession):
    """The rule of the online cancellation cut-off: a function of (department, start) giving the last
    moment a booking may be cancelled online (the department's cancel_cutoff_hours before its start).
    Pages show it when booking and hide "cancel" after it; cancel_booking refuses after it."""
    policies = await repo.release_policies(session)

    def deadline(department_id: uuid.UUID, starts_at: dt.datetime) -> dt.datetime:
        policy = policies.get(department_id)
        hours = policy.cancel_cutoff_hours if policy else DEFAULT_CANCEL_CUTOFF_HOURS
        return starts_at - dt.timedelta(hours=hours)

    return deadline


async def cancel_booking(session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID) -> BookingRead:
    booking = await repo.get_booking(session, booking_id)
    if booking is None:
        raise BookingNotFound()
    slot, cs = await repo.slot_with_session(session, booking.slot_id)
    await access_booking(session, actor=actor, booking=booking, cs=cs, action=policy.CANCEL)
    if booking.status not in ACTIVE_BOOKING:
        raise BookingNotActive()
    if clock.now() > (await cancel_deadlines(session))(cs.department_id, slot.starts_at):
        raise CancelTooLate()
    # the session's lock before the booking's: the order stopping and moving a session take them in
    await holds.lock_session(session, cs.id)
    # one conditional UPDATE decides: of concurrent cancels of one booking, only one gives the place back
    if not await repo.mark_cancelled(session, booking.id, clock.now()):
        raise BookingNotActive()
    await session.refresh(booking)
    # the place is free again at once: held for the first patient on the waiting list, else on open sale
    await holds.pass_place(session, slot=slot, cs=cs, now=clock.now(), locked=True)
    await outbox.publish(
        session,
        events.BOOKING_CANCELLED,
        {
            "booking_id": str(booking.id),
            "patient_id": str(booking.patient_id),
            "slot_id": str(slot.id),
            "session_id": str(cs.id),
        },
    )
    return booking_read(booking, slot, cs)


async def bookings_for(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> list[BookingRead]:
    allowed = []
    for pid in patient_ids:
        await patients.access_patient(session, actor=actor, patient_id=pid, action="book")
        allowed.append(pid)
    since = clock.today(get_settings().timezone) - dt.timedelta(days=30)
    return [booking_read(b, s, c) for b, s, c in await repo.bookings_of(session, allowed, since)]


async def get_booking(session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID) -> BookingRead:
    booking = await repo.get_booking(session, booking_id)
    if booking is None:
        raise BookingNotFound()
    slot, cs = await repo.slot_with_session(session, booking.slot_id)
    await access_booking(session, actor=actor, booking=booking, cs=cs, action=policy.READ)
    return booking_read(booking, slot, cs)


async def book_again(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID], limit: int = 3
) -> list[tuple[BookingRead, SessionRead | None]]:
    """Return visits: the departments these patients booked lately (most recent first, one per patient and
    department, leaving out those they are already booked into again), each with the earliest released
    session that has places left, starts later and falls on a day the real-name rule still allows (None
    when there is none in the search window)."""
    bookings = await bookings_for(session, actor=actor, patient_ids=patient_ids)
    today, now = clock.today(get_settings().timezone), clock.now()
    taken = {(b.patient_id, b.department_id, b.session_on) for b in bookings if b.status in ACTIVE_BOOKING}
    coming = {
        (b.patient_id, b.department_id) for b in bookings if b.status in ACTIVE_BOOKING and b.ends_at > now
    }
    recent: dict[tuple[uuid.UUID, uuid.UUID], BookingRead] = {}
    for b in sorted(bookings, key=lambda b: b.starts_at, reverse=True):
        pair = (b.patient_id, b.department_id)
        if b.status != BookingStatus.cancelled and pair not in coming and len(recent) < limit:
            recent.setdefault(pair, b)
    out = []
    for b in recent.values():
        sessions = await find_sessions(
            session,
            department_id=b.department_id,
            first=today,
            last=today + dt.timedelta(days=SEARCH_DAYS - 1),
        )
        out.append(
            (
                b,
                next(
                    (
                        s
                        for s in sessions
                        if s.released
                        and s.available > 0
                        and s.starts_at > now
                        and (b.patient_id, s.department_id, s.session_on) not in taken
                    ),
                    None,
                ),
            )
        )
    return out


# --- arrival (used by the queueing domain, which checks access itself) ---------------------------


async def booking_record(session: AsyncSession, *, booking_id: uuid.UUID) -> BookingRead | None:
    """A booking without an access decision: for a domain that has made its own."""
    booking = await repo.get_booking(session, booking_id)
    if booking is None:
        return None
    slot, cs = await repo.slot_with_session(session, booking.slot_id)
    return booking_read(booking, slot, cs)


async def bookings_on(session: AsyncSession, *, patient_id: uuid.UUID, day: dt.date) -> list[BookingRead]:
    """A patient's bookings of one day, without an access decision (the caller made it)."""
    return [booking_read(b, s, c) for b, s, c in await repo.bookings_on(session, patient_id, day)]


async def bookings_now(session: AsyncSession, *, patient_id: uuid.UUID) -> list[BookingRead]:
    """A patient's bookings of the clinics of now (clinic_day.is_now: today's, and tomorrow's whose
    arrival has opened), without an access decision (the caller made it)."""
    today, tomorrow = clinic_day.days_now()
    found = await repo.bookings_on(session, patient_id, today, tomorrow)  # one read for both days
    reads = [booking_read(b, s, c) for b, s, c in found]
    return [r for r in reads if clinic_day.is_now(r.session_on, r.starts_at)]


async def mark_checked_in(session: AsyncSession, *, booking_id: uuid.UUID) -> bool:
    """booked -> checked_in; False when the booking was not (or no longer) booked."""
    changed = await repo.change_status(
        session, booking_id, old=(BookingStatus.booked.value,), new=BookingStatus.checked_in.value
    )
    if changed:
        await outbox.publish(session, events.BOOKING_CHECKED_IN, {"booking_id": str(booking_id)})
    return changed


async def mark_completed(session: AsyncSession, *, booking_id: uuid.UUID) -> bool:
    changed = await repo.change_status(
        session, booking_id, old=(BookingStatus.checked_in.value,), new=BookingStatus.completed.value
    )
    if changed:
        await outbox.publish(session, events.BOOKING_COMPLETED, {"booking_id": str(booking_id)})
    return changed
