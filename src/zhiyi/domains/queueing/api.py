"""JSON routes of the queueing domain: check-in, the patient's position, running a clinic's queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from zhiyi.core.policy import Actor
from zhiyi.domains.queueing import service
from zhiyi.domains.queueing.schemas import Board, CheckInByToken, EntryRead, Position, QueueAction
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/queue", tags=["queue"], route_class=TxRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]


@router.post(
    "/checkins",
    status_code=201,
    response_model=EntryRead,
    summary="Check a patient in by their one-code QR (desk or kiosk)",
)
async def check_in(request: Request, actor: ActorDep, body: CheckInByToken):
    return await service.check_in_by_token(
        session_of(request),
        actor=actor,
        token=body.token,
        booking_id=body.booking_id,
        priority_reason=body.priority_reason,
    )


@router.post(
    "/bookings/{booking_id}/arrive",
    status_code=201,
    response_model=EntryRead,
    summary='"I have arrived": check in on the phone inside the check-in window',
)
async def arrive(request: Request, actor: ActorDep, booking_id: uuid.UUID):
    return await service.arrive(session_of(request), actor=actor, booking_id=booking_id)


@router.get(
    "/bookings/{booking_id}/position",
    response_model=Position,
    summary="How many are ahead and about how long (poll, or use the page's live stream)",
)
async def position(request: Request, actor: ActorDep, booking_id: uuid.UUID):
    return await service.position(session_of(request), actor=actor, booking_id=booking_id)


@router.get(
    "/sessions/{session_id}/board", response_model=Board, summary="A clinic session's queue (its staff)"
)
async def board(request: Request, actor: ActorDep, session_id: uuid.UUID):
    found, _ = await service.staff_board(session_of(request), actor=actor, session_id=session_id)
    return found


@router.post(
    "/sessions/{session_id}/actions",
    response_model=EntryRead | None,
    summary="Call next, recall, skip, send for tests, finish",
)
async def act(request: Request, actor: ActorDep, session_id: uuid.UUID, body: QueueAction):
    return await service.run_queue(
        session_of(request),
        actor=actor,
        session_id=session_id,
        action=body.action,
        expected_version=body.expected_version,
    )
