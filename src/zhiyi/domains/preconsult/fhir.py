"""Pre-consultation in FHIR: the shipped questionnaires as Questionnaire resources (their files' ids),
and each submitted form as its QuestionnaireResponse, as stored (the row's id; its subject is the
patient, so the patient's token reaches it). Drafts in progress stay out: they change at every save and
only the patient reads them. Written by the outbox handler of handlers.py and by `project_all`."""

from __future__ import annotations

import copy
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.preconsult import repository as repo
from zhiyi.domains.preconsult.forms import catalogue
from zhiyi.domains.preconsult.models import PreconsultResponse, ResponseStatus
from zhiyi.fhir import owned

OWNER = "preconsult"
PAGE = 200


def questionnaire_response(row: PreconsultResponse) -> dict:
    return {**copy.deepcopy(row.resource), "id": str(row.id)}


async def project_questionnaires(session: AsyncSession) -> int:
    changed = 0
    for form in catalogue():
        changed += await owned.put(session, owner=OWNER, resource=copy.deepcopy(form.resource))
    return changed


async def project_response(session: AsyncSession, response_id: uuid.UUID) -> None:
    row = await repo.get(session, response_id)
    if row is not None and row.status == ResponseStatus.completed:
        await owned.put(session, owner=OWNER, resource=questionnaire_response(row))


async def project_all(session: AsyncSession) -> int:
    changed, after = await project_questionnaires(session), None
    while page := await repo.submitted_after(session, after, PAGE):
        resources = [questionnaire_response(row) for row in page]
        changed += await owned.put_many(session, owner=OWNER, resources=resources)
        after = page[-1].id
    return changed
