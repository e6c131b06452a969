"""The patients domain's reactions to its own events: the registry's FHIR resources (fhir.py) follow its
rows, within the outbox worker's delay (docs/fhir.md). Idempotent: each re-reads the row."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import outbox
from zhiyi.domains.patients import events, fhir


@outbox.handles(events.PATIENT_REGISTERED)
@outbox.handles(events.PATIENT_UPDATED)
async def patient_changed(session: AsyncSession, event) -> None:
    await fhir.project_patient(session, uuid.UUID(event.payload["patient_id"]))


@outbox.handles(events.PROXY_ACTIVATED)
@outbox.handles(events.PROXY_REVOKED)
async def proxy_changed(session: AsyncSession, event) -> None:
    await fhir.project_link(session, uuid.UUID(event.payload["link_id"]))
