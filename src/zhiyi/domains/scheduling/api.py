"""JSON routes of the scheduling domain: availability, booking (with Idempotency-Key), cancellation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from zhiyi.core import clock, idempotency
from zhiyi.core.config import get_settings
from zhiyi.core.errors import FieldError, ValidationFailed
from zhiyi.core.policy import Actor
from zhiyi.domains.org.schemas import Title
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import service
from zhiyi.domains.scheduling.schemas import BookingCreate, BookingRead, SessionRead, SlotRead
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/scheduling", tags=["scheduling"], route_class=TxRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
MAX_RANGE_DAYS = 31
MAX_DAYS_FROM_TODAY = 366


@router.get("/sessions", response_model=list[SessionRead], summary="Find clinic sessions with free places")
async def find_sessions(request: Request, department_id: uuid.UUID | None = None, campus_id: uuid.UUID | None = None,
                        practitioner_id: uuid.UUID | None = None, date_from: dt.date | None = None,
                        date_to: dt.date | None = None, title: Title | None = None,
                        limit: Annotated[int, Query(ge=1, le=500)] = 200):
    today = clock.today(get_settings().timezone)
    first = date_from or today
    if abs((first - today).days) > MAX_DAYS_FROM_TODAY:
        raise ValidationFailed(errors=[FieldError("date_from", "Choose a range of at most 31 days.", "range")])
    last = date_to or first + dt.timedelta(days=13)
    if last < first or (last - first).days > MAX_RANGE_DAYS:
        raise ValidationFailed(errors=[FieldError("date_to", "Choose a range of at most 31 days.", "range")])
    return await service.find_sessions(session_of(request), department_id=department_id, campus_id=campus_id,
                                       practitioner_id=practitioner_id, first=first, last=last, title=title, limit=limit)


@router.get("/sessions/{session_id}/slots", response_model=list[SlotRead], summary="The times of a session")
async def slots(request: Request, session_id: uuid.UUID):
    return await service.session_slots(session_of(request), session_id=session_id)


@router.post("/bookings", status_code=201, response_model=BookingRead, summary="Book a slot (send an Idempotency-Key)")
async def book(request: Request, actor: ActorDep, body: BookingCreate,
               idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None):
    key = idempotency.check_key(idempotency_key)
    patient_id = body.patient_id or actor.patient_id
    if patient_id is None:
        raise ValidationFailed(errors=[FieldError("patient_id", "Say whom the booking is for.", "missing")])
    session = session_of(request)
    fingerprint = idempotency.request_hash({"op": "book", **body.model_dump(mode="json"), "patient_id": str(patient_id)})
    earlier = await idempotency.claim(session, account_id=actor.account_id, key=key, fingerprint=fingerprint)
    if earlier is not None:
        return JSONResponse(earlier.response, status_code=earlier.status_code, headers={"Idempotent-Replayed": "true"})
    booking = await service.book_slot(session, actor=actor, slot_id=body.slot_id, session_id=body.session_id,
                                      patient_id=patient_id, channel=body.channel)
    data = booking.model_dump(mode="json")
    await idempotency.remember(session, account_id=actor.account_id, key=key, status_code=201, response=data)
    return JSONResponse(data, status_code=201)


@router.get("/bookings/mine", response_model=list[BookingRead], summary="My and my family's bookings")
async def mine(request: Request, actor: ActorDep):
    session = session_of(request)
    ids = []
    if actor.patient_id:
        family = await patients.active_dependents(session, proxy_patient_id=actor.patient_id)
        ids = [actor.patient_id] + [p.id for _, p in family]
    return await service.bookings_for(session, actor=actor, patient_ids=ids)


@router.post("/bookings/{booking_id}/cancel", response_model=BookingRead, summary="Cancel before the cut-off")
async def cancel(request: Request, actor: ActorDep, booking_id: uuid.UUID):
    return await service.cancel_booking(session_of(request), actor=actor, booking_id=booking_id)
