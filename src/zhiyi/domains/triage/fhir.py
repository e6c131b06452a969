"""A triage assessment of a patient as a FHIR ClinicalImpression (the row's id): the complaint, the
symptoms found, the red flags, the departments suggested with their confidence and the department a
receiving doctor named instead. An emergency answer is in progress until clinical staff reviewed it.
Assessments of accounts without a patient record have no subject and stay out. Written by the outbox
handlers of handlers.py and by `project_all`."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.triage import repository as repo
from zhiyi.domains.triage.engine import Outcome
from zhiyi.domains.triage.models import TriageAssessment
from zhiyi.fhir import bindings, owned

OWNER = "triage"
DEPARTMENT = "urn:zhiyi:department"  # org's codes
TRIAGE = "urn:zhiyi:triage"
OUTCOME = "urn:zhiyi:triage-outcome"  # emergency | departments | ask | handover
SYMPTOM = "urn:zhiyi:triage-symptom"  # the lexicon's symptom ids
RED_FLAG = "urn:zhiyi:triage-red-flag"  # the red-flag rules' ids
EXTENSION = "https://zhiyi.example/fhir/StructureDefinition/"
PAGE = 500
bindings.register(OUTCOME, lambda: [o.value for o in Outcome])


def _department(code: str) -> dict:
    return {"system": DEPARTMENT, "code": code}


def _suggestion(s: dict) -> dict:
    return {
        "url": EXTENSION + "triage-suggestion",
        "extension": [
            {"url": "department", "valueCoding": _department(s["code"])},
            {"url": "confidence", "valueDecimal": round(float(s["confidence"]), 4)},
        ],
    }


def clinical_impression(row: TriageAssessment) -> dict:
    assert row.patient_id is not None
    waiting = row.outcome == "emergency" and row.reviewed_at is None
    extensions = [
        {"url": EXTENSION + "triage-outcome", "valueCoding": {"system": OUTCOME, "code": row.outcome}}
    ]
    extensions += [_suggestion(s) for s in row.suggestions]
    if row.reassigned_code:
        extensions.append(
            {"url": EXTENSION + "triage-reassigned", "valueCoding": _department(row.reassigned_code)}
        )
    findings = [{"itemCodeableConcept": {"coding": [{"system": SYMPTOM, "code": s}]}} for s in row.symptoms]
    findings += [
        {"itemCodeableConcept": {"coding": [{"system": RED_FLAG, "code": f}]}, "basis": "red flag"}
        for f in row.red_flags
    ]
    at = row.created_at.astimezone(dt.UTC).isoformat()
    return {
        "resourceType": "ClinicalImpression",
        "id": str(row.id),
        "extension": extensions,
        "status": "in-progress" if waiting else "completed",
        "code": {"coding": [{"system": TRIAGE, "code": "department-triage"}]},
        **({"description": row.text} if row.text.strip() else {}),
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "effectiveDateTime": at,
        "date": at,
        **(
            {"summary": row.outcome}
            if not row.suggestions
            else {"summary": ", ".join(s["code"] for s in row.suggestions)}
        ),
        **({"finding": findings} if findings else {}),
    }


async def project_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> None:
    row = await repo.assessment_now(session, assessment_id)
    if row is not None and row.patient_id is not None:
        await owned.put(session, owner=OWNER, resource=clinical_impression(row))


async def project_all(session: AsyncSession) -> int:
    changed, after = 0, None
    while page := await repo.patients_assessments_after(session, after, PAGE):
        resources = [clinical_impression(row) for row in page]
        changed += await owned.put_many(session, owner=OWNER, resources=resources)
        after = page[-1].id
    return changed
