"""What the queueing domain does when scheduling changes something (outbox handlers): a cancelled
booking, or a stopped clinic, takes its patients out of the queue, so nobody is called for an
appointment that no longer exists. And its own events: the visits' FHIR Encounters (fhir.py) follow the
queue entries, within the outbox worker's delay (docs/fhir.md)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.domains.queueing import events as queue_events
from zhiyi.domains.queueing import fhir
from zhiyi.domains.queueing import repository as repo
from zhiyi.domains.scheduling import events


@outbox.handles(events.BOOKING_CANCELLED)
async def booking_cancelled(session: AsyncSession, event) -> None:
    session_id = uuid.UUID(event.payload["session_id"])
    await repo.bump_board(session, session_id)  # one change at a time; live pages see it
    await repo.cancel_entries(session, booking_id=uuid.UUID(event.payload["booking_id"]))
    await fhir.project_booking(session, uuid.UUID(event.payload["booking_id"]))


@outbox.handles(events.SESSION_STOPPED)
async def session_stopped(session: AsyncSession, event) -> None:
    session_id = uuid.UUID(event.payload["session_id"])
    await repo.bump_board(session, session_id)
    await repo.cancel_entries(session, session_id=session_id)
    await fhir.project_session(session, session_id)


@outbox.handles(queue_events.CHECKED_IN)
@outbox.handles(queue_events.CALLED)
@outbox.handles(queue_events.VISIT_FINISHED)
@outbox.handles(queue_events.TURN_DEFERRED)
@outbox.handles(queue_events.REJOINED)
async def entry_changed(session: AsyncSession, event) -> None:
    await fhir.project_entry(session, uuid.UUID(event.payload["entry_id"]))
