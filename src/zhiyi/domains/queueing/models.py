"""Tables of the queueing domain: one queue entry per checked-in booking, one board per clinic session."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import IntEnum, StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class EntryStatus(StrEnum):
    waiting = "waiting"  # checked in, in the queue
    called = "called"  # called into the consulting room
    away = "away"  # sent for tests; comes back with the results (回诊)
    skipped = "skipped"  # called and did not come (过号); rejoins at the back on return
    done = "done"  # consultation finished
    cancelled = "cancelled"  # the booking was cancelled or the clinic stopped


class Priority(IntEnum):
    normal = 0
    returning = 1  # back with test results
    priority = 2  # aged 80+, disabled, pregnant


PRIORITY_REASONS = ("aged_80", "disabled", "pregnant", "returning_with_results")


class QueueEntry(IdMixin, Base):
    __tablename__ = "queue_entry"
    __table_args__ = (
        Index("ix_queue_entry_session", "session_id", "status"),
        Index("ix_queue_entry_practitioner_done", "practitioner_id", "finished_at"),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("booking.id"), unique=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_session.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioner.id"))
    number: Mapped[int]  # the number called out and shown on the waiting-area screen
    status: Mapped[str] = mapped_column(String(10), default=EntryStatus.waiting)
    priority: Mapped[int] = mapped_column(default=Priority.normal)
    priority_reason: Mapped[str | None] = mapped_column(String(30))
    order_at: Mapped[dt.datetime]  # the appointment time, or the arrival for late and returning patients
    checked_in_at: Mapped[dt.datetime]
    check_in_method: Mapped[str] = mapped_column(String(10))  # qr | phone | desk
    called_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    recalls: Mapped[int] = mapped_column(default=0)


class QueueBoard(Base):
    """Per clinic session: the numbers handed out and a version that every change bumps
    (live pages poll it; the UPDATE also serialises changes to one queue)."""

    __tablename__ = "queue_board"
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_session.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=0)
