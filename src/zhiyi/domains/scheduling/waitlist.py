"""The waiting lists of full clinic sessions (候补), for patients, family proxies and desks: join,
leave, see one's place in line and offers, accept an offer (it becomes a booking) or decline it.
How freed places are held and passed on: holds.py. Services never commit."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, ids, outbox
from zhiyi.core.config import get_settings
from zhiyi.core.policy import Actor
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import events, holds, no_shows, overlap, policy, service
from zhiyi.domains.scheduling import repository as repo
from zhiyi.domains.scheduling import waitlist_repository as wrepo
from zhiyi.domains.scheduling.errors import (
    AlreadyWaiting,
    NotWaiting,
    NotYetReleased,
    OfferNotOpen,
    PatientNotVerified,
    PlacesAvailable,
    RealNameRuleViolated,
    SessionClosed,
    SessionNotFound,
    SlotInPast,
    WaitlistEntryNotFound,
)
from zhiyi.domains.scheduling.models import (
    BookingStatus,
    ClinicSession,
    SessionStatus,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
)
from zhiyi.domains.scheduling.schemas import BookingRead, WaitlistEntryRead

HISTORY_DAYS = 30  # how far back "my waiting lists" reaches


def entry_read(
    e: WaitlistEntry, cs: ClinicSession | Row, slot: Slot | None, position: int | None
) -> WaitlistEntryRead:
    return WaitlistEntryRead(
        id=e.id,
        session_id=e.session_id,
        patient_id=e.patient_id,
        department_id=e.department_id,
        practitioner_id=cs.practitioner_id,
        campus_id=cs.campus_id,
        session_on=e.session_on,
        period=cs.period,
        status=e.status,
        joined_at=e.created_at,
        position=position if e.status == WaitlistStatus.waiting else None,
        slot_id=e.slot_id,
        slot_starts_at=slot.starts_at if slot else None,
        slot_ends_at=slot.ends_at if slot else None,
        hold_expires_at=e.hold_expires_at,
        booking_id=e.booking_id,
    )


async def _read(session: AsyncSession, entry_id: uuid.UUID) -> WaitlistEntryRead:
    e = await wrepo.get_entry(session, entry_id)
    cs = await repo.get_session(session, e.session_id)
    found = await repo.slot_with_session(session, e.slot_id) if e.slot_id else None
    position = (
        await wrepo.position(session, session_id=e.session_id, created_at=e.created_at, entry_id=e.id)
        if e.status == WaitlistStatus.waiting
        else None
    )
    return entry_read(e, cs, found[0] if found else None, position)


async def join_waitlist(
    session: AsyncSession, *, actor: Actor, patient_id: uuid.UUID, session_id: uuid.UUID
) -> WaitlistEntryRead:
    """Wait for a place in a released, open, future clinic session that is full. The same rules as
    booking: access (oneself, a dependent, a desk of the session's campus), a verified identity,
    online booking not suspended, and the real-name rule (no waiting for a department and day
    where the patient already holds a booking)."""
    patient, decision = await patients.access_patient(
        session, actor=actor, patient_id=patient_id, action="book"
    )
    now = clock.now()
    # one statement, as a booking reads it: the session with the preconditions of rules.py
    cs = await repo.booking_target(
        session, slot_id=None, session_id=session_id, patient_id=patient.id, now=now
    )
    if cs is None:
        raise SessionNotFound()
    if not cs.verified:
        raise PatientNotVerified()
    service._check_desk_campus(actor, cs, decision)
    if not cs.open:  # the database decided the rules (rules.py); here each refusal gets its reason
        raise SessionClosed()
    if not cs.not_over:
        raise SlotInPast()
    if not cs.released:
        raise NotYetReleased()
    no_shows.refuse_if_blocked(actor, taken=cs.taken, suspended_until=cs.suspended_until)
    # under the session's lock a cancellation cannot free a place between "full" and joining the line
    await wrepo.lock_sessions(session, [cs.id])
    to_come, free = await wrepo.places(session, cs.id, now)
    if to_come == 0:
        raise SlotInPast()
    if free > 0:
        raise PlacesAvailable()
    values = {
        "id": ids.new_id(),
        "session_id": cs.id,
        "patient_id": patient.id,
        "department_id": cs.department_id,
        "session_on": cs.session_on,
        "status": WaitlistStatus.waiting.value,
        "channel": "desk" if no_shows.at_desk(actor) else "online",
        "joined_by_account_id": actor.account_id,
        "created_at": now,
    }
    entry = WaitlistEntry(**values)  # not added to the session: one INSERT below, the answer read from memory
    position = await wrepo.insert_entry_unless_waiting(session, values)
    if position is None:  # already in this line (or a double tap)
        raise AlreadyWaiting()
    await outbox.publish(
        session,
        events.WAITLIST_JOINED,
        {"entry_id": str(entry.id), "patient_id": str(patient.id), "session_id": str(cs.id)},
    )
    return entry_read(entry, cs, None, position)


async def _entry_for(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID
) -> tuple[WaitlistEntry, ClinicSession]:
    entry = await wrepo.get_entry(session, entry_id)
    if entry is None:
        raise WaitlistEntryNotFound()
    _, decision = await patients.access_patient(
        session, actor=actor, patient_id=entry.patient_id, action="book"
    )
    cs = await repo.get_session(session, entry.session_id)
    service._check_desk_campus(actor, cs, decision)
    return entry, cs


async def leave_waitlist(session: AsyncSession, *, actor: Actor, entry_id: uuid.UUID) -> WaitlistEntryRead:
    """Leave the line; a patient holding an offer declines it (the place goes to the next)."""
    entry, _ = await _entry_for(session, actor, entry_id)
    now = clock.now()
    await wrepo.lock_sessions(session, [entry.session_id])  # nobody makes an offer in this line meanwhile
    entry = await wrepo.get_entry(session, entry.id)
    if entry.status == WaitlistStatus.offered:
        if not await holds.close_offer(session, entry=entry, status=WaitlistStatus.declined.value, now=now):
            raise OfferNotOpen()
    elif entry.status != WaitlistStatus.waiting or not await wrepo.leave(session, entry.id, now=now):
        raise NotWaiting()
    return await _read(session, entry.id)


async def decline_offer(session: AsyncSession, *, actor: Actor, entry_id: uuid.UUID) -> WaitlistEntryRead:
    entry, _ = await _entry_for(session, actor, entry_id)
    if not await holds.close_offer(
        session, entry=entry, status=WaitlistStatus.declined.value, now=clock.now()
    ):
        raise OfferNotOpen()
    return await _read(session, entry.id)


async def accept_offer(session: AsyncSession, *, actor: Actor, entry_id: uuid.UUID) -> BookingRead:
    """Take the held place: it becomes a normal booking (the rules of booking are checked again).
    The place is already counted by its slot, so nothing is taken from open sale."""
    entry, cs = await _entry_for(session, actor, entry_id)
    # the session's lock first, like every change to a line; then its state as a stop or a move
    # that held the lock left it
    await wrepo.lock_sessions(session, [cs.id])
    await session.refresh(cs)
    now = clock.now()
    if entry.status != WaitlistStatus.offered or entry.hold_expires_at <= now:
        raise OfferNotOpen()
    slot, _ = await repo.slot_with_session(session, entry.slot_id)
    if cs.status != SessionStatus.open:
        raise SessionClosed()
    if slot.starts_at <= now:
        raise SlotInPast()
    await no_shows.check_may_book(
        session,
        actor=actor,
        patient_id=entry.patient_id,
        department_id=cs.department_id,
        day=cs.session_on,
        now=now,
    )
    await overlap.refuse_overlap(
        session,
        patient_id=entry.patient_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        day=cs.session_on,
    )
    channel = "desk" if no_shows.at_desk(actor) else "online"
    booking = {
        "id": ids.new_id(),
        "slot_id": slot.id,
        "session_id": cs.id,
        "patient_id": entry.patient_id,
        "department_id": cs.department_id,
        "session_on": cs.session_on,
        "status": BookingStatus.booked.value,
        "channel": channel,
        "booked_by_account_id": actor.account_id,
        "created_at": now,
    }
    try:
        async with session.begin_nested():  # a refusal leaves the transaction usable, without the booking
            await repo.insert_booking(session, booking)
            # the offer's status decides between this accept and the hold's expiry (or a decline)
            if not await wrepo.accept_offer(session, entry.id, booking_id=booking["id"], now=now):
                raise OfferNotOpen()
    except IntegrityError:  # a booking of the same patient, department and day won a race
        raise RealNameRuleViolated() from None
    await audit.write(
        session,
        actor,
        policy.CREATE,
        policy.KIND,
        booking["id"],
        patient_id=entry.patient_id,
        reason="waiting list",
    )
    await outbox.publish(
        session,
        events.BOOKING_CREATED,
        {
            "booking_id": str(booking["id"]),
            "patient_id": str(entry.patient_id),
            "slot_id": str(slot.id),
            "session_id": str(cs.id),
        },
    )
    return BookingRead(
        id=booking["id"],
        slot_id=slot.id,
        session_id=cs.id,
        patient_id=entry.patient_id,
        department_id=cs.department_id,
        practitioner_id=cs.practitioner_id,
        campus_id=cs.campus_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        session_on=cs.session_on,
        status=booking["status"],
        channel=channel,
    )


async def waitlist_for(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> list[WaitlistEntryRead]:
    """These patients' waiting-list entries and offers (each access decided and audited)."""
    for pid in patient_ids:
        await patients.access_patient(session, actor=actor, patient_id=pid, action="book")
    since = clock.today(get_settings().timezone) - dt.timedelta(days=HISTORY_DAYS)
    return [
        entry_read(e, cs, slot, position)
        for e, cs, slot, position in await wrepo.entries_of(session, patient_ids, since)
    ]
