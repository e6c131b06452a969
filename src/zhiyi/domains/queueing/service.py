"""Public operations of the queueing domain: check-in (one-code QR at a desk or kiosk, or
"I have arrived" on the phone), the smart queue of a clinic session (call next, recall, skip,
send for tests, finish), a patient's live position and the waiting-area board.

Queue order: priority first (aged 80+, disabled, pregnant; then patients back with test
results), then the appointment time; a patient who arrives after their time queues from
their arrival, and one who missed their call rejoins at the back. Every change to a
queue first bumps its board row, which serialises changes to one queue on PostgreSQL (row
lock) and SQLite (one writer) alike and tells live pages that something changed.
Services never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, ids, outbox
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.core.policy import Actor, Resource
from zhiyi.domains.patients import service as patients
from zhiyi.domains.queueing import events
from zhiyi.domains.queueing import repository as repo
from zhiyi.domains.queueing.errors import (
    BookingNotCheckable,
    BookingNotFound,
    CheckInClosed,
    ChooseBooking,
    NobodyInRoom,
    NoBookingToday,
    NotCheckedIn,
    QueueChanged,
    TooEarly,
    TooLate,
)
from zhiyi.domains.queueing.models import EntryStatus, Priority, QueueEntry
from zhiyi.domains.queueing.policy import KIND
from zhiyi.domains.queueing.schemas import Board, EntryRead, Position
from zhiyi.domains.scheduling import service as scheduling
from zhiyi.domains.scheduling.schemas import BookingRead, SessionRead

DEFAULT_MINUTES_PER_PATIENT = 8
PRIORITY_AGE = 80


def entry_read(e: QueueEntry) -> EntryRead:
    return EntryRead(
        id=e.id,
        booking_id=e.booking_id,
        session_id=e.session_id,
        patient_id=e.patient_id,
        number=e.number,
        status=e.status,
        priority_reason=e.priority_reason,
        order_at=e.order_at,
        checked_in_at=e.checked_in_at,
        check_in_method=e.check_in_method,
        called_at=e.called_at,
        recalls=e.recalls,
    )


async def _authorize(session: AsyncSession, actor: Actor, action: str, cs: SessionRead) -> None:
    resource = Resource(KIND, cs.id, {"campus_id": cs.campus_id, "practitioner_id": cs.practitioner_id})
    await audit.guard(session, actor, action, resource, patient_id=None)


def check_in_window(b: BookingRead, cs: SessionRead, *, staff: bool) -> tuple[dt.datetime, dt.datetime]:
    """From an hour (setting) before the appointment; on the phone until half an hour (setting)
    after it, at a desk until the clinic session ends."""
    s = get_settings()
    opens = scheduling.arrival_opens(b.starts_at)
    return opens, (cs.ends_at if staff else b.starts_at + dt.timedelta(minutes=s.checkin_late_minutes))


# --- check-in ---------------------------------------------------------------------------------


async def arrive(session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID) -> EntryRead:
    """ "I have arrived" on the patient's (or a family member's) phone."""
    booking = await scheduling.booking_record(session, booking_id=booking_id)
    if booking is None:
        raise audit.missing(session, actor, "queue.arrive", "booking", booking_id) from None
    patient, decision = await patients.access_patient(
        session, actor=actor, patient_id=booking.patient_id, action="book"
    )
    _patient_side(decision)
    cs = await scheduling.get_session(session, session_id=booking.session_id)
    return await _check_in(session, booking, cs, patient, method="phone", reason=None, staff=False)


def _patient_side(decision) -> None:
    """The phone's pages are the patient's and their family's: a desk checks in by the one-code."""
    if decision.reason == scheduling.DESK_REASON:
        raise Forbidden()


async def arrivals(session: AsyncSession, *, actor: Actor, token: str) -> tuple[object, list[BookingRead]]:
    """The patient presenting a one-code QR and their active appointments today at the desk's campuses."""
    patient_id = patients.resolve_onecode(token=token)
    patient, _ = await patients.access_patient(
        session, actor=actor, patient_id=patient_id, action="onecode.scan"
    )
    found = [
        b
        for b in await scheduling.bookings_now(session, patient_id=patient.id)
        if b.status in scheduling.ACTIVE_BOOKING and (actor.group_wide or b.campus_id in actor.campus_ids)
    ]
    return patient, found


async def check_in_by_token(
    session: AsyncSession,
    *,
    actor: Actor,
    token: str,
    booking_id: uuid.UUID | None = None,
    priority_reason: str | None = None,
    method: str = "qr",
) -> EntryRead:
    """A desk or kiosk scans the one-code: checks in today's appointment (the one chosen, or the
    only one, or the only one whose check-in is open now)."""
    patient, found = await arrivals(session, actor=actor, token=token)
    if booking_id is not None:
        found = [b for b in found if b.id == booking_id]
    if not found:
        raise NoBookingToday()
    sessions = {b.id: await scheduling.get_session(session, session_id=b.session_id) for b in found}
    chosen = found[0]
    if len(found) > 1:
        now = clock.now()
        open_now = [
            b
            for b in found
            if b.status == "booked"
            and check_in_window(b, sessions[b.id], staff=True)[0] <= now <= sessions[b.id].ends_at
        ]
        if len(open_now) != 1:
            raise ChooseBooking()
        chosen = open_now[0]
    cs = sessions[chosen.id]
    await _authorize(session, actor, "queue.check_in", cs)
    return await _check_in(session, chosen, cs, patient, method=method, reason=priority_reason, staff=True)


def _priority(patient, reason: str | None, day: dt.date) -> tuple[int, str | None]:
    if patients.age_on(patient.birth_date, day) >= PRIORITY_AGE:
        return Priority.priority, "aged_80"
    if reason in ("disabled", "pregnant"):
        return Priority.priority, reason
    return Priority.normal, None


async def _check_in(
    session: AsyncSession,
    b: BookingRead,
    cs: SessionRead,
    patient,
    *,
    method: str,
    reason: str | None,
    staff: bool,
) -> EntryRead:
    now = clock.now()
    await repo.bump_board(session, b.session_id)  # one change at a time per queue
    entry = await repo.entry_of_booking(session, b.id)
    if entry is not None:
        return entry_read(await _rejoin(session, entry, now))
    if b.status != "booked":
        raise BookingNotCheckable()
    opens, closes = check_in_window(b, cs, staff=staff)
    if now < opens:
        raise TooEarly()
    if now > closes:
        raise TooLate() if not staff else CheckInClosed()
    if not await scheduling.mark_checked_in(session, booking_id=b.id):
        raise BookingNotCheckable()
    _, number = await repo.bump_board(session, b.session_id, take_number=True)
    priority, why = _priority(patient, reason, cs.session_on)
    entry = await repo.add_entry(
        session,
        QueueEntry(
            id=ids.new_id(),
            booking_id=b.id,
            session_id=b.session_id,
            patient_id=b.patient_id,
            practitioner_id=cs.practitioner_id,
            number=number,
            status=EntryStatus.waiting,
            priority=priority,
            priority_reason=why,
            order_at=b.starts_at if now <= b.starts_at else now,
            checked_in_at=now,
            check_in_method=method,
            recalls=0,
        ),
    )
    await outbox.publish(
        session,
        events.CHECKED_IN,
        {
            "entry_id": str(entry.id),
            "booking_id": str(b.id),
            "patient_id": str(b.patient_id),
            "session_id": str(b.session_id),
        },
    )
    return entry_read(entry)


async def _entry_event(session: AsyncSession, topic: str, entry: QueueEntry) -> None:
    payload = {
        "entry_id": str(entry.id),
        "booking_id": str(entry.booking_id),
        "patient_id": str(entry.patient_id),
        "session_id": str(entry.session_id),
    }
    await outbox.publish(session, topic, payload)


async def _rejoin(session: AsyncSession, entry: QueueEntry, now: dt.datetime) -> QueueEntry:
    """Checking in again: back from tests (queues with the returning priority, from now), or back
    after missing the call (at the back of the queue). Waiting, called or finished entries stay as they
    are."""
    if entry.status == EntryStatus.away:
        entry.status, entry.order_at = EntryStatus.waiting, now
        if entry.priority < Priority.returning:
            entry.priority, entry.priority_reason = Priority.returning, "returning_with_results"
    elif entry.status == EntryStatus.skipped:  # to the back of the queue as it stands
        waiting = [
            e.order_at
            for e in await repo.entries_of_session(session, entry.session_id)
            if e.status == EntryStatus.waiting and e.priority == entry.priority
        ]
        entry.status = EntryStatus.waiting
        entry.order_at = max([now] + [at + dt.timedelta(seconds=1) for at in waiting])
    else:
        return entry
    await session.flush()
    await _entry_event(session, events.REJOINED, entry)
    return entry


# --- the doctor's side --------------------------------------------------------------------------


async def run_queue(
    session: AsyncSession,
    *,
    actor: Actor,
    session_id: uuid.UUID,
    action: str,
    expected_version: int | None = None,
) -> EntryRead | None:
    """call_next (finishes whoever is in the room and calls the next), recall, skip (missed the
    call), away (sent for tests), finish. Returns the entry acted on (None: nobody left to call).
    With `expected_version` (the board the doctor saw), a queue that changed meanwhile is refused:
    a double tap or a resent form never finishes the patient just called."""
    cs = await scheduling.get_session(session, session_id=session_id)
    await _authorize(session, actor, "queue.run", cs)
    now = clock.now()
    version, _ = await repo.bump_board(session, cs.id)
    if expected_version is not None and version != expected_version + 1:
        raise QueueChanged()
    entries = await repo.entries_of_session(session, cs.id)
    current = next((e for e in entries if e.status == EntryStatus.called), None)
    if action == "call_next":
        if current is not None:
            await _finish(session, current, now)
        following = await _next_waiting(session, entries)
        if following is not None:
            following.status, following.called_at = EntryStatus.called, now
            await session.flush()
            await outbox.publish(
                session,
                events.CALLED,
                {
                    "entry_id": str(following.id),
                    "number": following.number,
                    "patient_id": str(following.patient_id),
                    "session_id": str(cs.id),
                },
            )
        return entry_read(following) if following is not None else None
    if current is None:
        raise NobodyInRoom()
    if action == "recall":
        current.recalls += 1
    elif action in ("skip", "away"):
        current.status = EntryStatus.skipped if action == "skip" else EntryStatus.away
        await session.flush()
        await _entry_event(session, events.TURN_DEFERRED, current)
    else:
        await _finish(session, current, now)
    await session.flush()
    return entry_read(current)


async def _next_waiting(session: AsyncSession, entries: list[QueueEntry]) -> QueueEntry | None:
    """The first waiting entry whose booking still stands (one cancelled a moment ago leaves the queue)."""
    for e in entries:
        if e.status != EntryStatus.waiting:
            continue
        booking = await scheduling.booking_record(session, booking_id=e.booking_id)
        if booking is not None and booking.status == "checked_in":
            return e
        e.status = EntryStatus.cancelled
    return None


async def _finish(session: AsyncSession, entry: QueueEntry, now: dt.datetime) -> None:
    entry.status, entry.finished_at = EntryStatus.done, now
    await session.flush()
    await scheduling.mark_completed(session, booking_id=entry.booking_id)
    await _entry_event(session, events.VISIT_FINISHED, entry)


async def minutes_per_patient(
    session: AsyncSession, practitioner_id: uuid.UUID, session_id: uuid.UUID
) -> int:
    """What a patient's turn takes with this doctor: the median of their recent consultations (a few
    quick ones, a patient sent for tests or one who only needed a signature, do not pull it down as they
    did an average), never below half the time the clinic's timetable gives a patient; before there are
    any, that time (or a default)."""
    planned = await scheduling.minutes_per_place(session, session_id=session_id)
    floor = max(1, round(planned / 2)) if planned else 1
    recent = sorted(
        (b - a).total_seconds() / 60 for a, b in await repo.recent_durations(session, practitioner_id)
    )
    if not recent:
        return max(1, min(60, round(planned))) if planned else DEFAULT_MINUTES_PER_PATIENT
    middle = len(recent) // 2
    median = recent[middle] if len(recent) % 2 else (recent[middle - 1] + recent[middle]) / 2
    return max(floor, min(60, round(median)))


async def board(session: AsyncSession, *, session_id: uuid.UUID) -> Board:
    """A session's queue by number and status only (no one is named here)."""
    cs = await scheduling.get_session(session, session_id=session_id)
    entries = await repo.entries_of_session(session, cs.id)
    by = {s: [entry_read(e) for e in entries if e.status == s] for s in EntryStatus}
    return Board(
        session_id=cs.id,
        version=await repo.board_version(session, cs.id),
        current=by[EntryStatus.called][0] if by[EntryStatus.called] else None,
        waiting=by[EntryStatus.waiting],
        away=by[EntryStatus.away],
        skipped=by[EntryStatus.skipped],
        done=len(by[EntryStatus.done]),
        minutes_per_patient=await minutes_per_patient(session, cs.practitioner_id, cs.id),
    )


async def staff_board(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID) -> tuple[Board, dict]:
    """The doctor's (or triage nurse's) view: the board with the patients' records; every
    patient shown is an audited read."""
    cs = await scheduling.get_session(session, session_id=session_id)
    await _authorize(session, actor, "queue.run", cs)
    b = await board(session, session_id=cs.id)
    shown = [e for e in ([b.current] if b.current else []) + b.waiting + b.away + b.skipped]
    for e in shown:
        audit.record(session, actor, "read", "queue_entry", e.id, patient_id=e.patient_id)
    return b, await patients.patients_by_ids(session, ids={e.patient_id for e in shown})


async def version(session: AsyncSession, *, session_id: uuid.UUID) -> int:
    return await repo.board_version(session, session_id)


# --- the patient's side -------------------------------------------------------------------------


async def position(session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID) -> Position:
    booking = await scheduling.booking_record(session, booking_id=booking_id)
    if booking is None:
        raise BookingNotFound()
    _, decision = await patients.access_patient(
        session, actor=actor, patient_id=booking.patient_id, action="book"
    )
    _patient_side(decision)
    return await position_of(session, booking_id=booking.id)


async def position_of(session: AsyncSession, *, booking_id: uuid.UUID) -> Position:
    """Where a checked-in booking stands (no access decision: `position` makes it)."""
    entry = await repo.entry_of_booking(session, booking_id)
    if entry is None:
        raise NotCheckedIn()
    entries = await repo.entries_of_session(session, entry.session_id)
    waiting = [e.id for e in entries if e.status == EntryStatus.waiting]
    current = next((e for e in entries if e.status == EntryStatus.called), None)
    ahead = waiting.index(entry.id) if entry.id in waiting else 0
    per = await minutes_per_patient(session, entry.practitioner_id, entry.session_id)
    minutes = (
        ahead * per + (per // 2 if current is not None else 0) if entry.status == EntryStatus.waiting else 0
    )
    return Position(
        booking_id=booking_id,
        session_id=entry.session_id,
        number=entry.number,
        status=entry.status,
        ahead=ahead,
        minutes=minutes,
        calling=current.number if current else None,
        version=await repo.board_version(session, entry.session_id),
    )


async def todays_sessions(session: AsyncSession, *, actor: Actor) -> list[SessionRead]:
    """The clinic sessions of now the actor runs (their own, as a doctor): today's, and tomorrow's
    whose arrival has opened (a clinic just after midnight)."""
    if actor.practitioner_id is None:
        return []
    today, tomorrow = scheduling.days_now()
    found = await scheduling.find_sessions(
        session, practitioner_id=actor.practitioner_id, first=today, last=tomorrow, bookable=False
    )
    return [s for s in found if scheduling.is_now(s.session_on, s.starts_at)]
