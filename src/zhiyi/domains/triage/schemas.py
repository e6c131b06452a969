"""Pydantic types of the triage domain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from zhiyi.core.fields import Code, FreeText

Answer = Annotated[FreeText, StringConstraints(max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TriageAsk(Strict):
    """A complaint in Chinese, English or both; what else is known about the patient."""

    text: FreeText = Field("", description="what is wrong, in the patient's words (at most 2,000 characters)")
    patient_id: uuid.UUID | None = Field(None, description="for a family member (default: oneself)")
    age: int | None = Field(
        None, ge=0, le=130, description="years; read from the patient's record when omitted"
    )
    sex: Literal["M", "F"] | None = None
    pregnant: bool | None = None
    body_part: str | None = Field(
        None, max_length=30, description="a region of the body map (GET /triage/body-map)"
    )
    answers: dict[Code, Answer] = Field(
        default_factory=dict, max_length=20, description="answers to the follow-up questions asked"
    )


class Option(BaseModel):
    value: str
    label: str


class Question(BaseModel):
    id: str
    text: str
    options: list[Option]


class RedFlagRead(BaseModel):
    id: str
    name: str


class DoctorSlot(BaseModel):
    practitioner_id: uuid.UUID
    name: str
    title: str  # in the patient's language
    session_id: uuid.UUID
    campus_id: uuid.UUID
    starts_at: dt.datetime
    available: int


class DepartmentSuggestion(BaseModel):
    code: str
    department_id: uuid.UUID | None  # None where this hospital group has no such department
    name: str
    confidence: float
    reasons: list[str]  # the recognised symptoms that point here, in the patient's language
    doctors: list[DoctorSlot] = []


class AssessmentRead(BaseModel):
    id: uuid.UUID
    outcome: Literal["emergency", "departments", "ask", "handover"]  # (engine's "unclear" is answered 422)
    text: str  # as the patient wrote it
    patient_id: uuid.UUID | None
    body_part: str | None
    language: str
    message: str
    red_flags: list[RedFlagRead] = []
    departments: list[DepartmentSuggestion] = []
    symptoms: list[str] = []
    rules: list[str] = []  # the hospital rules that changed the suggestion, explained
    questions: list[Question] = []
    created_at: dt.datetime


class Feedback(Strict):
    helped: bool


class Reassign(Strict):
    department_code: str = Field(max_length=40)


class HandoverAsk(Strict):
    assessment_id: uuid.UUID | None = None
    text: FreeText = Field("", max_length=2000)


class MessageSend(Strict):
    text: FreeText = Field(min_length=1, max_length=2000)


class HandoverClose(Strict):
    department_code: str | None = Field(None, max_length=40)


class MessageRead(BaseModel):
    sender: str
    text: str
    at: dt.datetime


class HandoverRead(BaseModel):
    id: uuid.UUID
    status: str
    assessment_id: uuid.UUID | None
    complaint: str
    suggestions: list[str] = []  # the department names triage had in mind
    department_code: str | None = None
    department_name: str | None = None
    department_id: uuid.UUID | None = (
        None  # where the advised department can be booked (None: not at this group)
    )
    created_at: dt.datetime
    messages: list[MessageRead] = []


class TriageNote(BaseModel):
    """What triage made of a patient's complaint lately, for the doctor who sees them."""

    id: uuid.UUID
    text: str
    outcome: str
    created_at: dt.datetime
    suggestions: list[str]  # department names
    reassigned_code: str | None = None
    reassigned_name: str | None = None
