"""JSON routes of the scheduling domain: availability, booking (with Idempotency-Key), cancellation,
waiting lists of full sessions and their held places."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from zhiyi.core import clock, idempotency
from zhiyi.core.config import get_settings
from zhiyi.core.errors import FieldError, ValidationFailed
from zhiyi.core.policy import Actor
from zhiyi.domains.org.schemas import Title
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import changes, draw, service, waitlist
from zhiyi.domains.scheduling.errors import NotInDraw
from zhiyi.domains.scheduling.schemas import (
    BookingCreate,
    BookingRead,
    SessionChangeRead,
    SessionMove,
    SessionRead,
    SlotRead,
    WaitlistEntryRead,
    WaitlistJoin,
)
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/scheduling", tags=["scheduling"], route_class=TxRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
MAX_RANGE_DAYS = 31
MAX_DAYS_FROM_TODAY = 366


class DrawPosition(BaseModel):
    position: int  # 1 = served first
    entries: int


@router.get("/sessions", response_model=list[SessionRead], summary="Find clinic sessions with free places")
async def find_sessions(
    request: Request,
    department_id: uuid.UUID | None = None,
    campus_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    title: Title | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    weekends: Annotated[bool, Query(description="only Saturdays, Sundays and public holidays")] = False,
):
    today = clock.today(get_settings().timezone)
    first = date_from or today
    if abs((first - today).days) > MAX_DAYS_FROM_TODAY:
        raise ValidationFailed(
            errors=[FieldError("date_from", "Choose a range of at most 31 days.", "range")]
        )
    last = date_to or first + dt.timedelta(days=13)
    if last < first or (last - first).days > MAX_RANGE_DAYS:
        raise ValidationFailed(errors=[FieldError("date_to", "Choose a range of at most 31 days.", "range")])
    return await service.find_sessions(
        session_of(request),
        department_id=department_id,
        campus_id=campus_id,
        practitioner_id=practitioner_id,
        first=first,
        last=last,
        title=title,
        limit=limit,
        weekends=weekends,
    )


@router.get("/sessions/{session_id}/slots", response_model=list[SlotRead], summary="The times of a session")
async def slots(request: Request, session_id: uuid.UUID):
    return await service.session_slots(session_of(request), session_id=session_id)


@router.post(
    "/bookings", status_code=201, response_model=BookingRead, summary="Book a slot (send an Idempotency-Key)"
)
async def book(
    request: Request,
    actor: ActorDep,
    body: BookingCreate,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    if not getattr(request.state, draw.COUNTED, False):  # the rush lane counted it before it came on here
        draw.limit(actor)
    key = idempotency.check_key(idempotency_key)
    patient_id = body.patient_id or actor.patient_id
    if patient_id is None:
        raise ValidationFailed(errors=[FieldError("patient_id", "Say whom the booking is for.", "missing")])
    session = session_of(request)
    asked = body.fingerprint(patient_id)
    # a patient's own booking of a session seen sold out was asked the short way in the rush lane
    # (rush/lane.py) before it came here: here it books the usual way
    await draw.wait_turn(
        session,
        actor=actor,
        patient_id=patient_id,
        slot_id=body.slot_id,
        session_id=body.session_id,
        idempotency_key=key,
    )  # at a release instant: served in the order of the draw
    return await _once(
        session,
        actor,
        key,
        asked,
        lambda: service.book_slot(
            session,
            actor=actor,
            slot_id=body.slot_id,
            session_id=body.session_id,
            patient_id=patient_id,
            channel=body.channel,
        ),
    )


async def _once(
    session, actor: Actor, key: str, request: dict, make: Callable[[], Awaitable[BaseModel]]
) -> JSONResponse:
    """Idempotent creation: a key already answered replays its stored answer; otherwise `make` runs
    and its answer is stored under the key in the same transaction."""
    earlier = await idempotency.claim(
        session, account_id=actor.account_id, key=key, fingerprint=idempotency.request_hash(request)
    )
    if earlier is not None:
        return JSONResponse(
            earlier.response, status_code=earlier.status_code, headers={"Idempotent-Replayed": "true"}
        )
    data = (await make()).model_dump(mode="json")
    await idempotency.remember(session, account_id=actor.account_id, key=key, status_code=201, response=data)
    return JSONResponse(data, status_code=201)


@router.post(
    "/sessions/{session_id}/stop",
    response_model=SessionChangeRead,
    summary="Stop a clinic session (停诊): its patients are rebooked or told",
)
async def stop(request: Request, actor: ActorDep, session_id: uuid.UUID):
    done = await changes.stop_session(session_of(request), actor=actor, session_id=session_id)
    return SessionChangeRead(
        session_id=done.session_id, rebooked=done.rebooked, cancelled=done.cancelled, moved=[]
    )


@router.post(
    "/sessions/{session_id}/move",
    response_model=SessionChangeRead,
    summary="Move a clinic session to another time: its patients follow and are told",
)
async def move(request: Request, actor: ActorDep, session_id: uuid.UUID, body: SessionMove):
    done = await changes.move_session(
        session_of(request), actor=actor, session_id=session_id, starts_at=body.starts_at
    )
    return SessionChangeRead(
        session_id=done.session_id, rebooked=[], cancelled=done.cancelled, moved=done.moved
    )


@router.get(
    "/draws/{session_id}/position",
    response_model=DrawPosition,
    summary="The waiting room at a release: a patient's place in the draw's order",
)
async def draw_position(
    request: Request, actor: ActorDep, session_id: uuid.UUID, patient_id: uuid.UUID | None = None
):
    patient_id = patient_id or actor.patient_id
    if patient_id is None:
        raise ValidationFailed(errors=[FieldError("patient_id", "Say whom the booking is for.", "missing")])
    found = await draw.position(
        session_of(request), actor=actor, patient_id=patient_id, session_id=session_id
    )
    if found is None:
        raise NotInDraw()
    return DrawPosition(position=found[0], entries=found[1])


async def _me_and_family(request: Request, actor: Actor) -> list[uuid.UUID]:
    if not actor.patient_id:
        return []
    family = await patients.active_dependents(session_of(request), proxy_patient_id=actor.patient_id)
    return [actor.patient_id] + [p.id for _, p in family]


@router.get("/bookings/mine", response_model=list[BookingRead], summary="My and my family's bookings")
async def mine(request: Request, actor: ActorDep):
    return await service.bookings_for(
        session_of(request), actor=actor, patient_ids=await _me_and_family(request, actor)
    )


@router.post("/bookings/{booking_id}/cancel", response_model=BookingRead, summary="Cancel before the cut-off")
async def cancel(request: Request, actor: ActorDep, booking_id: uuid.UUID):
    return await service.cancel_booking(session_of(request), actor=actor, booking_id=booking_id)


# --- waiting lists ------------------------------------------------------------------------------


@router.post(
    "/waitlist",
    status_code=201,
    response_model=WaitlistEntryRead,
    summary="Join the waiting list of a full session (409 places_available when places are free)",
)
async def join_waitlist(request: Request, actor: ActorDep, body: WaitlistJoin):
    patient_id = body.patient_id or actor.patient_id
    if patient_id is None:
        raise ValidationFailed(errors=[FieldError("patient_id", "Say whom the booking is for.", "missing")])
    return await waitlist.join_waitlist(
        session_of(request), actor=actor, patient_id=patient_id, session_id=body.session_id
    )


@router.get(
    "/waitlist/mine",
    response_model=list[WaitlistEntryRead],
    summary="My and my family's waiting lists, places in line and held places offered",
)
async def my_waitlist(request: Request, actor: ActorDep):
    return await waitlist.waitlist_for(
        session_of(request), actor=actor, patient_ids=await _me_and_family(request, actor)
    )


@router.post(
    "/waitlist/{entry_id}/leave",
    response_model=WaitlistEntryRead,
    summary="Leave a waiting list (a held place is declined and goes to the next patient)",
)
async def leave_waitlist(request: Request, actor: ActorDep, entry_id: uuid.UUID):
    return await waitlist.leave_waitlist(session_of(request), actor=actor, entry_id=entry_id)


@router.post(
    "/waitlist/{entry_id}/accept",
    status_code=201,
    response_model=BookingRead,
    summary="Accept a held place before it expires: it becomes a booking (send an Idempotency-Key)",
)
async def accept_offer(
    request: Request,
    actor: ActorDep,
    entry_id: uuid.UUID,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    key = idempotency.check_key(idempotency_key)
    session = session_of(request)
    return await _once(
        session,
        actor,
        key,
        {"op": "accept_offer", "entry_id": str(entry_id)},
        lambda: waitlist.accept_offer(session, actor=actor, entry_id=entry_id),
    )


@router.post(
    "/waitlist/{entry_id}/decline",
    response_model=WaitlistEntryRead,
    summary="Decline a held place: it goes to the next patient in line",
)
async def decline_offer(request: Request, actor: ActorDep, entry_id: uuid.UUID):
    return await waitlist.decline_offer(session_of(request), actor=actor, entry_id=entry_id)
