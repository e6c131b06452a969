"""My appointments: the patient's (or, at a desk, the chosen patient's) bookings and waiting-list
places, with cancelling; the forms of waiting lists (waitlist_web.py) answer with this page too."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from zhiyi.core import clock
from zhiyi.core.errors import DomainError
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import Actor
from zhiyi.domains.patients.schemas import FamilyMember as Person
from zhiyi.domains.scheduling import clinic_day, service, waitlist
from zhiyi.domains.scheduling.errors import BookingNotFound
from zhiyi.domains.scheduling.web import DESK, _people, _view
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.forms import parse_uuid
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)

WAITLIST_NOTES = {
    "joined": N_(
        "You are on the waiting list. When a place is freed it is held for you and we send you a message."
    ),
    "left": N_("You have left the waiting list."),
    "declined": N_("You declined the place; it goes to the next patient in line."),
}


def _at_desk(actor: Actor, people: dict[uuid.UUID, Person]) -> bool:
    return not actor.group_wide and any(p.relationship == DESK for p in people.values())


async def _appointments_page(
    request: Request, actor: Actor, *, message: str | None = None, ok: bool = False, status: int = 200
):
    session = session_of(request)
    people = await _people(request, actor)
    bookings = await service.bookings_for(session, actor=actor, patient_ids=list(people))
    desk = _at_desk(actor, people)
    if desk:  # a desk sees the patient's bookings at its own campuses only
        bookings = [b for b in bookings if b.campus_id in actor.campus_ids]
    now = clock.now()
    upcoming = [b for b in bookings if b.status in service.ACTIVE_BOOKING and b.ends_at > now]
    coming = {b.id for b in upcoming}
    earlier = sorted((b for b in bookings if b.id not in coming), key=lambda b: b.starts_at, reverse=True)
    # waiting lists: held places first (an offer is shown only while its hold lasts), then places in line
    entries = [
        e
        for e in await waitlist.waitlist_for(session, actor=actor, patient_ids=list(people))
        if (e.status == "offered" and e.hold_expires_at > now and e.slot_starts_at > now)
        or (e.status == "waiting" and e.session_on >= clinic_day.today())
    ]
    if desk:
        entries = [e for e in entries if e.campus_id in actor.campus_ids]
    entries.sort(key=lambda e: (e.status != "offered", e.session_on))
    v = await _view(
        session,
        translator(locale_of(request)),
        practitioner_ids={b.practitioner_id for b in bookings} | {e.practitioner_id for e in entries},
    )
    return render(
        request,
        "scheduling/templates/appointments.html",
        status=status,
        v=v,
        people=people,
        upcoming=sorted(upcoming, key=lambda b: b.starts_at),
        earlier=earlier,
        message=message,
        ok=ok,
        today=clinic_day.today(),
        now=now,
        cancel_until=await service.cancel_deadlines(session),
        # "I have arrived" today, and for a booking just past midnight whose check-in has opened
        arrivable={b.id for b in upcoming if service.is_now(b.session_on, b.starts_at)},
        entries=entries,
        offer_keys={e.id: uuid.uuid4().hex for e in entries if e.status == "offered"},
    )


@router.get("/appointments")
async def appointments(
    request: Request,
    cancelled: str | None = None,
    note: Annotated[str | None, Query(alias="waitlist")] = None,
    actor: Actor = Depends(web_actor),
):
    t = translator(locale_of(request))
    message = t.gettext("The appointment is cancelled.") if cancelled else None
    if note in WAITLIST_NOTES:
        message = t.gettext(WAITLIST_NOTES[note])
    return await _appointments_page(request, actor, ok=True, message=message)


@router.post("/appointments/{booking_id}/cancel")
async def cancel(
    request: Request, booking_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    t = translator(locale_of(request))
    try:
        bid = parse_uuid(booking_id)
        if bid is None:
            raise BookingNotFound()
        await service.cancel_booking(session_of(request), actor=actor, booking_id=bid)
    except DomainError as exc:
        return await _appointments_page(
            request, actor, message=t.gettext(exc.message, **exc.params), status=exc.status
        )
    return RedirectResponse("/appointments?cancelled=1", status_code=303)
