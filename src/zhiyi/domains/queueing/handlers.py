"""What the queueing domain does when scheduling changes something (outbox handlers): a cancelled
booking, or a stopped clinic, takes its patients out of the queue, so nobody is called for an
appointment that no longer exists."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.domains.queueing import repository as repo
from zhiyi.domains.scheduling import events


@outbox.handles(events.BOOKING_CANCELLED)
async def booking_cancelled(session: AsyncSession, event) -> None:
    session_id = uuid.UUID(event.payload["session_id"])
    await repo.bump_board(session, session_id)  # one change at a time; live pages see it
    await repo.cancel_entries(session, booking_id=uuid.UUID(event.payload["booking_id"]))


@outbox.handles(events.SESSION_STOPPED)
async def session_stopped(session: AsyncSession, event) -> None:
    session_id = uuid.UUID(event.payload["session_id"])
    await repo.bump_board(session, session_id)
    await repo.cancel_entries(session, session_id=session_id)
