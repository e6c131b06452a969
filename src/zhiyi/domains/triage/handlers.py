"""The triage domain's reactions to its own events: an assessment's ClinicalImpression (fhir.py) follows
the row within the outbox worker's delay (docs/fhir.md). Idempotent: it re-reads the row."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.domains.triage import events, fhir


@outbox.handles(events.ASSESSMENT_MADE)
@outbox.handles(events.ASSESSMENT_REASSIGNED)
@outbox.handles(events.ASSESSMENT_REVIEWED)
async def assessment_changed(session: AsyncSession, event) -> None:
    await fhir.project_assessment(session, uuid.UUID(event.payload["assessment_id"]))
