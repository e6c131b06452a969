"""Tables of the scheduling domain."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


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


def active_booking_sql(column: str = "status") -> str:
    """The same rule as SQL text, for index predicates and statements written by hand."""
    return f"{column} IN ({', '.join(repr(s) for s in ACTIVE_BOOKING)})"


class ClinicTemplate(IdMixin, Base):
    """The weekly timetable (出诊表): who sits where on which half-day; sessions are generated from it."""

    __tablename__ = "clinic_template"
    __table_args__ = (UniqueConstraint("practitioner_id", "weekday", "period"),)

    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioner.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"))
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room.id"))
    weekday: Mapped[int]  # 0 Monday .. 6 Sunday
    period: Mapped[str] = mapped_column(String(10))  # am | pm | evening
    # general 普通 | specialist 专科 | expert 专家 | special_needs 特需
    clinic_type: Mapped[str] = mapped_column(String(20))
    slot_minutes: Mapped[int] = mapped_column(default=10)
    slot_capacity: Mapped[int] = mapped_column(default=1)
    on_holidays: Mapped[bool] = mapped_column(default=False, server_default=text("false"))  # holiday clinic


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
    period: Mapped[str] = mapped_column(String(10))  # am | pm | evening | extra (加诊, outside the timetable)
    # general 普通 | specialist 专科 | expert 专家 | special_needs 特需
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
        Index(
            "uq_booking_patient_department_day",
            "patient_id",
            "department_id",
            "session_on",
            unique=True,
            postgresql_where=text(active_booking_sql()),
            sqlite_where=text(active_booking_sql()),
        ),
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
    reminded_at: Mapped[dt.datetime | None]  # when the reminder was sent (once)


class WaitlistStatus(StrEnum):
    waiting = "waiting"  # in line for a place of a full session
    offered = "offered"  # a freed place is held for this patient until hold_expires_at
    booked = "booked"  # the offer was accepted: booking_id
    declined = "declined"
    expired = "expired"  # the hold ran out; the place went to the next patient
    left = "left"  # the patient left the waiting list
    closed = "closed"  # the session was stopped or is over


LIVE_WAITLIST = (WaitlistStatus.waiting.value, WaitlistStatus.offered.value)


class WaitlistEntry(IdMixin, Base):
    """A patient waiting for a place in a full clinic session (候补). A freed place is offered to
    the first in line and held for them: the slot's `booked` counter keeps counting it, so the
    place is never on open sale while it is held."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        # one live entry per patient and session (a patient who left may join again, at the back)
        Index(
            "uq_waitlist_entry_live",
            "session_id",
            "patient_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'offered')"),
            sqlite_where=text("status IN ('waiting', 'offered')"),
        ),
        Index(
            "ix_waitlist_entry_line",
            "session_id",
            "created_at",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index(
            "ix_waitlist_entry_hold",
            "hold_expires_at",
            postgresql_where=text("status = 'offered'"),
            sqlite_where=text("status = 'offered'"),
        ),
        Index("ix_waitlist_entry_patient", "patient_id", "session_on"),
        CheckConstraint(
            "status <> 'offered' OR (slot_id IS NOT NULL AND hold_expires_at IS NOT NULL)",
            name="offer_holds_a_place",
        ),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic_session.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    session_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(10), default=WaitlistStatus.waiting)
    channel: Mapped[str] = mapped_column(String(10))  # online (patient or proxy) | desk
    joined_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime]  # the order of the line
    slot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("slot.id"))  # the held place
    offered_at: Mapped[dt.datetime | None]
    hold_expires_at: Mapped[dt.datetime | None]
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking.id"))
    closed_at: Mapped[dt.datetime | None]


class BookingSuspension(Base):
    """Online booking suspended after repeated no-shows (written when the limit is reached, so the
    booking path reads one row by primary key)."""

    __tablename__ = "booking_suspension"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    no_shows: Mapped[int]  # counted in the window when the suspension was last set
    updated_at: Mapped[dt.datetime]


class DrawEntry(Base):
    """A patient's one ticket in the draw of a release instant (放号抽签, see scheduling/draw.py)."""

    __tablename__ = "release_draw_entry"
    __table_args__ = (Index("ix_release_draw_entry_order", "release_at", "ticket"),)

    release_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    ticket: Mapped[float]  # uniform in [0, 1): the order in which the draw's requests are served
    idempotency_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]


class Holiday(Base):
    """A public holiday (节假日): the timetable holds only its holiday clinics that day."""

    __tablename__ = "holiday"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100))
