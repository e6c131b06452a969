"""Pydantic types of the pre-consultation domain. Questionnaires and responses travel as FHIR JSON."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel


class SummaryEntry(BaseModel):
    link_id: str
    question: str
    answer: str
    red_flag: bool = False


class SummaryRead(BaseModel):
    """The pre-visit summary in the reader's language."""

    response_id: uuid.UUID
    patient_id: uuid.UUID
    booking_id: uuid.UUID | None
    department_code: str
    questionnaire: str  # canonical url|version
    status: str
    completed_at: dt.datetime | None
    chief_complaint: list[SummaryEntry]
    present_illness: list[SummaryEntry]
    past_history: list[SummaryEntry]
    medications: list[SummaryEntry]
    allergies: list[SummaryEntry]
    red_flags: list[SummaryEntry]


class ResponseRead(BaseModel):
    """A stored response: where it belongs, and the FHIR QuestionnaireResponse itself."""

    id: uuid.UUID
    patient_id: uuid.UUID
    booking_id: uuid.UUID | None
    department_code: str
    questionnaire: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    resource: dict
