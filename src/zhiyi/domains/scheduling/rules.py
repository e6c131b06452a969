"""The booking preconditions that the database decides, each defined once as a SQL expression.

The usual path selects them as columns of its one statement (repository.booking_target) and decides by
them in Python, with a reason for each refusal; the rush's one-statement booking is rendered from the
same expressions (rush/functions.py, `@RULE(name)@` in rush/sql/), so a change here changes both.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Exists, ScalarSelect, Select, and_, exists, select

from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling.models import ACTIVE_BOOKING, Booking, BookingSuspension, Slot

_booking = Booking.__table__.alias("b")
_suspension = BookingSuspension.__table__.alias("s")
_slot = Slot.__table__.alias("sl")


def patient_verified(patient) -> Exists:
    """Only a patient whose identity has been verified books (the patients domain's definition)."""
    return patients.verified_condition(patient)


def active(status: ColumnElement) -> ColumnElement:
    """A booking that holds its place: booked or checked in."""
    return status.in_(ACTIVE_BOOKING)


def booked_that_day(patient, department, day) -> Exists:
    """The real-name rule: the patient already holds an active booking in this department that day."""
    return exists().where(
        _booking.c.patient_id == patient,
        _booking.c.department_id == department,
        _booking.c.session_on == day,
        active(_booking.c.status),
    )


def suspended_until(patient, now) -> ScalarSelect:
    """The end of the patient's online-booking suspension after no-shows, if one is running (else NULL)."""
    return (
        select(_suspension.c.ends_at)
        .where(_suspension.c.patient_id == patient, _suspension.c.ends_at > now)
        .scalar_subquery()
    )


def session_open(cs) -> ColumnElement:
    """The clinic session takes bookings (not stopped)."""
    return cs.c.status == "open"


def released(cs, now) -> ColumnElement:
    """The session's places are on sale."""
    return cs.c.release_at <= now


def not_over(cs, now) -> ColumnElement:
    """The session has not ended."""
    return cs.c.ends_at > now


def session_bookable(cs, now) -> ColumnElement:
    """Open, released and not over."""
    return and_(session_open(cs), released(cs, now), not_over(cs, now))


def booking_at_same_time(patient, starts_at, ends_at, first_day, last_day) -> Select:
    """One place at a time: the start of an active booking of the patient whose time overlaps
    [starts_at, ends_at), if any (its day between first_day and last_day: a day either side of the
    place's, since a slot never spans more)."""
    return (
        select(_slot.c.starts_at)
        .join(_booking, _booking.c.slot_id == _slot.c.id)
        .where(
            _booking.c.patient_id == patient,
            active(_booking.c.status),
            _booking.c.session_on.between(first_day, last_day),
            _slot.c.starts_at < ends_at,
            _slot.c.ends_at > starts_at,
        )
        .order_by(_slot.c.starts_at)
        .limit(1)
    )
