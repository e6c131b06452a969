"""Errors of the queueing domain."""

from zhiyi.core.errors import Conflict, NotFound, RuleViolated


class NotCheckedIn(NotFound):
    code, message = "not_in_queue", "This booking has not been checked in."


class NoBookingToday(NotFound):
    code, message = "no_booking_today", "No appointment to check in today at this campus."


class ChooseBooking(Conflict):
    code, message = "choose_booking", "Several appointments today: choose which one to check in."


class BookingNotCheckable(Conflict):
    code, message = "booking_not_checkable", "This booking cannot be checked in (cancelled or already seen)."


class TooEarly(RuleViolated):
    code, message = (
        "checkin_too_early",
        "Check-in has not opened yet; it opens an hour before the appointment.",
    )


class TooLate(RuleViolated):
    code, message = (
        "checkin_too_late",
        "It is too late to check in on the phone; please go to the clinic's desk.",
    )


class NobodyInRoom(Conflict):
    code, message = "nobody_called", "No patient is in the consulting room."


class BookingNotFound(NotFound):
    code, message = "booking_not_found", "No such booking."


class CheckInClosed(RuleViolated):
    code, message = "checkin_closed", "This clinic session is over; check-in has closed."


class QueueChanged(Conflict):
    code, message = "queue_changed", "The queue changed meanwhile; look again before calling."
