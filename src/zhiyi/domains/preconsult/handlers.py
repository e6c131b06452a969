"""The pre-consultation domain's reactions to its own events: a submitted form's QuestionnaireResponse
(fhir.py) is in the FHIR repository within the outbox worker's delay (docs/fhir.md). Idempotent."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.domains.preconsult import events, fhir


@outbox.handles(events.RESPONSE_SUBMITTED)
async def response_submitted(session: AsyncSession, event) -> None:
    await fhir.project_response(session, uuid.UUID(event.payload["response_id"]))
