"""The scheduling domain's reactions to its own events: its FHIR resources (fhir.py) follow the rows,
within the outbox worker's delay (docs/fhir.md). Idempotent: each re-reads the rows it maps."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.domains.scheduling import events, fhir


@outbox.handles(events.BOOKING_CREATED)
@outbox.handles(events.BOOKING_CANCELLED)
@outbox.handles(events.BOOKING_NO_SHOW)
@outbox.handles(events.BOOKING_CHECKED_IN)
@outbox.handles(events.BOOKING_COMPLETED)
async def booking_changed(session: AsyncSession, event) -> None:
    await fhir.project_booking(session, uuid.UUID(event.payload["booking_id"]))


@outbox.handles(events.PLACE_OFFERED)
@outbox.handles(events.OFFER_CLOSED)
async def place_changed(session: AsyncSession, event) -> None:
    """A freed place held for the waiting list, or passed on: the Slot's free or busy."""
    await fhir.project_slot(session, uuid.UUID(event.payload["slot_id"]))


@outbox.handles(events.SESSION_STOPPED)
@outbox.handles(events.SESSION_MOVED)
async def session_changed(session: AsyncSession, event) -> None:
    await fhir.project_sessions(session, [uuid.UUID(event.payload["session_id"])])


@outbox.handles(events.SESSIONS_OPENED)
async def sessions_opened(session: AsyncSession, event) -> None:
    await fhir.project_sessions(session, [uuid.UUID(i) for i in event.payload["session_ids"]])
