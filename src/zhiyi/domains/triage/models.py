"""Tables of the triage domain: every assessment (what was asked, what was answered, and how it
turned out), and hand-overs to the service desk with their messages."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class TriageAssessment(IdMixin, Base):
    __tablename__ = "triage_assessment"
    __table_args__ = (
        Index("ix_triage_assessment_patient_at", "patient_id", "created_at"),
        Index("ix_triage_assessment_outcome_review", "outcome", "reviewed_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    # for whom (self or family)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    text: Mapped[str] = mapped_column(Text)
    age_years: Mapped[float | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    pregnant: Mapped[bool] = mapped_column(default=False)
    body_part: Mapped[str | None] = mapped_column(String(30))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(5))
    outcome: Mapped[str] = mapped_column(String(12))  # engine.Outcome
    red_flags: Mapped[list] = mapped_column(JSON, default=list)
    suggestions: Mapped[list] = mapped_column(JSON, default=list)  # [{"code", "confidence", "symptoms"}]
    symptoms: Mapped[list] = mapped_column(JSON, default=list)
    rules: Mapped[list] = mapped_column(JSON, default=list)  # the hospital rules that changed the suggestions
    created_at: Mapped[dt.datetime]
    helped: Mapped[bool | None]  # the patient's answer to "did this help?"
    feedback_at: Mapped[dt.datetime | None]
    reassigned_code: Mapped[str | None] = mapped_column(String(40))  # the department a doctor says was right
    reassigned_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    reassigned_at: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]  # an emergency answer looked at by clinical staff
    reviewed_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))


class HandoverStatus(StrEnum):
    waiting = "waiting"
    taken = "taken"  # an agent is answering
    closed = "closed"


class TriageHandover(IdMixin, Base):
    """A chat request to the service desk: the assessment was unsure or the patient asked for a person."""

    __tablename__ = "triage_handover"
    __table_args__ = (
        Index("ix_triage_handover_status_at", "status", "created_at"),
        # one open request per account, also when two arrive at once
        Index(
            "uq_triage_handover_open_account",
            "account_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("triage_assessment.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"))
    status: Mapped[str] = mapped_column(String(10), default=HandoverStatus.waiting)
    agent_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    department_code: Mapped[str | None] = mapped_column(String(40))  # what the agent advised
    created_at: Mapped[dt.datetime]
    taken_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]


class HandoverMessage(IdMixin, Base):
    __tablename__ = "triage_handover_message"
    __table_args__ = (Index("ix_triage_handover_message_at", "handover_id", "at"),)

    handover_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("triage_handover.id"))
    sender: Mapped[str] = mapped_column(String(7))  # patient | agent
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime]
