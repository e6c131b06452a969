"""Forms of the waiting lists: join a full session's list (on its page), and on "My appointments"
leave a list, accept a held place (idempotent like booking: a double tap books once) or decline it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from zhiyi.core import idempotency
from zhiyi.core.errors import DomainError, Forbidden
from zhiyi.core.i18n import translator
from zhiyi.core.policy import Actor
from zhiyi.domains.scheduling import waitlist
from zhiyi.domains.scheduling.appointments_web import _appointments_page
from zhiyi.domains.scheduling.errors import SessionNotFound, WaitlistEntryNotFound
from zhiyi.domains.scheduling.web import _people, session_page
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.forms import parse_uuid
from zhiyi.web.templating import check_csrf, locale_of

router = APIRouter(route_class=TxRoute, include_in_schema=False)


@router.post("/book/session/{session_id}/waitlist")
async def join(
    request: Request, session_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    sid = parse_uuid(session_id)
    if sid is None:
        raise SessionNotFound()
    form = await request.form()
    people = await _people(request, actor)
    patient_id = parse_uuid(form.get("patient_id")) or actor.patient_id
    try:
        if patient_id not in people:
            raise Forbidden()
        await waitlist.join_waitlist(session_of(request), actor=actor, patient_id=patient_id, session_id=sid)
    except DomainError as exc:
        t = translator(locale_of(request))
        return await session_page(
            request, actor, sid, patient_id, message=t.gettext(exc.message, **exc.params), status=exc.status
        )
    return RedirectResponse("/appointments?waitlist=joined", status_code=303)


async def _entry_action(request: Request, actor: Actor, entry_id: str, action, note: str):
    try:
        eid = parse_uuid(entry_id)
        if eid is None:
            raise WaitlistEntryNotFound()
        await action(session_of(request), actor=actor, entry_id=eid)
    except DomainError as exc:
        t = translator(locale_of(request))
        return await _appointments_page(
            request, actor, message=t.gettext(exc.message, **exc.params), status=exc.status
        )
    return RedirectResponse(f"/appointments?waitlist={note}", status_code=303)


@router.post("/appointments/waitlist/{entry_id}/leave")
async def leave(
    request: Request, entry_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    return await _entry_action(request, actor, entry_id, waitlist.leave_waitlist, "left")


@router.post("/appointments/waitlist/{entry_id}/decline")
async def decline(
    request: Request, entry_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    return await _entry_action(request, actor, entry_id, waitlist.decline_offer, "declined")


@router.post("/appointments/waitlist/{entry_id}/accept")
async def accept(
    request: Request, entry_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    form = await request.form()
    session = session_of(request)
    t = translator(locale_of(request))
    try:
        eid = parse_uuid(entry_id)
        if eid is None:
            raise WaitlistEntryNotFound()
        key = idempotency.check_key(str(form.get("key", "")) or None)
        fingerprint = idempotency.request_hash({"op": "accept_offer", "entry_id": str(eid)})
        earlier = await idempotency.claim(
            session, account_id=actor.account_id, key=key, fingerprint=fingerprint
        )
        if earlier is not None:  # the same form again: show the booking it made
            return RedirectResponse(f"/book/done/{earlier.response['id']}", status_code=303)
        booking = await waitlist.accept_offer(session, actor=actor, entry_id=eid)
        await idempotency.remember(
            session,
            account_id=actor.account_id,
            key=key,
            status_code=201,
            response=booking.model_dump(mode="json"),
        )
    except idempotency.IdempotencyKeyInvalid:
        return await _appointments_page(
            request,
            actor,
            status=422,
            message=t.gettext("The form has expired; reload the page and try again."),
        )
    except DomainError as exc:
        return await _appointments_page(
            request, actor, message=t.gettext(exc.message, **exc.params), status=exc.status
        )
    return RedirectResponse(f"/book/done/{booking.id}", status_code=303)
