"""Tables of the pre-consultation domain: one row per filled (or half-filled) questionnaire."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class ResponseStatus(StrEnum):
    in_progress = "in-progress"  # saved, to be finished later
    completed = "completed"  # submitted: final, and what the doctor sees


class PreconsultResponse(IdMixin, Base):
    """A QuestionnaireResponse (FHIR JSON) and the summary derived from it.

    `draft_key` is set while the form is in progress (patient, department, booking) and cleared on
    submission: its unique index keeps one draft per form, so two tabs saving at once cannot make two."""

    __tablename__ = "preconsult_response"
    __table_args__ = (
        Index("ix_preconsult_response_patient", "patient_id", "status", "completed_at"),
        Index("ix_preconsult_response_booking", "booking_id"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    department_code: Mapped[str] = mapped_column(String(40))
    questionnaire_url: Mapped[str] = mapped_column(String(200))
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking.id"))
    status: Mapped[str] = mapped_column(String(12), default=ResponseStatus.in_progress)
    draft_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    resource: Mapped[dict] = mapped_column(JSON)  # the FHIR QuestionnaireResponse
    summary: Mapped[dict] = mapped_column(JSON)  # summary.summarize(): sections and red flags, both languages
    red_flags: Mapped[int] = mapped_column(default=0)
    filled_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
