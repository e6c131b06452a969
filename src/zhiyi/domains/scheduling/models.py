"""Tables of the scheduling domain."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class ClinicType(StrEnum):
    general = "general"  # 普通门诊
    specialist = "specialist"  # 专科门诊
    expert = "expert"  # 专家门诊
    special_needs = "special_needs"  # 特需门诊


class Period(StrEnum):
    am = "am"
    pm = "pm"
    evening = "evening"


class SessionStatus(StrEnum):
    open = "open"
    stopped = "stopped"  # 停诊


class BookingStatus(StrEnum):
    booked = "booked"
    checked_in = "checked_in"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


ACTIVE_BOOKING = (BookingStatus.booked.value, BookingStatus.checked_in.value)


class ClinicTemplate(IdMixin, Base):
    """The weekly timetable (出诊表): who sits where on which half-day; sessions are generated from it."""

    __tablename__ = "clinic_template"
    __table_args__ = (UniqueConstraint("practitioner_id", "weekday", "period"),)

    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioner.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"))
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room.id"))
    weekday: Mapped[int]  # 0 Monday .. 6 Sunday
    period: Mapped[str] = mapped_column(String(10))
    clinic_type: Mapped[str] = mapped_column(String(20))
    slot_minutes: Mapped[int] = mapped_column(default=10)
    slot_capacity: Mapped[int] = mapped_column(default=1)


class ReleasePolicy(Base):
    """When a department's slots are released (放号): days ahead at a local time."""

    __tablename__ = "release_policy"
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), primary_key=True)
    days_ahead: Mapped[int] = mapped_column(default=7)
    release_time: Mapped[dt.time] = mapped_column(default=dt.time(8, 0))
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=2)


class ClinicSession(IdMixin, Base):
    __tablename__ = "clinic_session"
    __table_args__ = (
        UniqueConstraint("practitioner_id", "session_on", "period"),
        Index("ix_clinic_session_find", "department_id", "session_on", "campus_id"),
    )

    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioner.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"))
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room.id"))
    session_on: Mapped[dt.date]
    period: Mapped[str] = mapped_column(String(10))
    clinic_type: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    release_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(10), default=SessionStatus.open)


class Slot(IdMixin, Base):
    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        Index("ix_slot_session_start", "session_id", "starts_at"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_session.id"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)


class Booking(IdMixin, Base):
    __tablename__ = "booking"
    __table_args__ = (
        # the real-name rule: one active booking per patient, department and day
        Index("uq_booking_patient_department_day", "patient_id", "department_id", "session_on", unique=True,
              postgresql_where=text("status IN ('booked', 'checked_in')"),
              sqlite_where=text("status IN ('booked', 'checked_in')")),
        Index("ix_booking_slot", "slot_id"),
        Index("ix_booking_patient", "patient_id", "session_on"),
    )

    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slot.id"))
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_session.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    session_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=BookingStatus.booked)
    channel: Mapped[str] = mapped_column(String(10))  # online | desk | phone
    booked_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None]

