"""Errors of the scheduling domain."""

from zhiyi.core.errors import Conflict, Forbidden, NotFound, RuleViolated


class SlotNotFound(NotFound):
    code, message = "slot_not_found", "No such slot."


class SessionNotFound(NotFound):
    code, message = "session_not_found", "No such clinic session."


class BookingNotFound(NotFound):
    code, message = "booking_not_found", "No such booking."


class SlotFull(Conflict):
    code, message = "slot_full", "This time is fully booked."


class SessionClosed(Conflict):
    code, message = "session_closed", "This clinic session has been stopped."


class NotYetReleased(Conflict):
    code, message = "not_yet_released", "These slots are not released yet."


class SlotInPast(RuleViolated):
    code, message = "slot_in_past", "This time has already passed."


class RealNameRuleViolated(Conflict):
    code, message = (
        "one_booking_per_department_day",
        "This patient already has a booking in this department that day.",
    )


class PatientNotVerified(RuleViolated):
    code, message = "patient_not_verified", "Only patients with a verified identity can book."


class CancelTooLate(RuleViolated):
    code, message = "cancel_too_late", "It is too late to cancel online; please contact the clinic."


class BookingNotActive(Conflict):
    code, message = "booking_not_active", "This booking is no longer active."


class WaitlistEntryNotFound(NotFound):
    code, message = "waitlist_entry_not_found", "No such waiting-list entry."


class PlacesAvailable(Conflict):
    code, message = "places_available", "This clinic still has free places: book one instead of waiting."


class AlreadyWaiting(Conflict):
    code, message = "already_waiting", "This patient is already on the waiting list of this clinic."


class NotWaiting(Conflict):
    code, message = "not_waiting", "This patient is no longer on the waiting list."


class OfferNotOpen(Conflict):
    code, message = (
        "offer_not_open",
        "There is no place held for this patient (the offer was taken, declined or has expired).",
    )


class OnlineBookingSuspended(Forbidden):
    code = "online_booking_suspended"
    message = (
        "Online booking is suspended until %(until)s after repeated missed appointments. "
        "Please book at a registration desk or by phone."
    )


class BookingOverlaps(Conflict):
    code = "booking_overlaps"
    message = (
        "This patient already has a booking at %(when)s, at the same time as this one. Choose another time."
    )


class DoctorBusy(Conflict):
    code, message = "doctor_busy", "The doctor already holds a clinic at that time."


class RoomBusy(Conflict):
    code, message = "room_busy", "Another clinic is held in that room at that time."


class AlreadyInDraw(Conflict):
    code, message = (
        "already_in_draw",
        "This patient already has a request in this release's draw; wait for its answer.",
    )


class NotInDraw(NotFound):
    code, message = "not_in_draw", "This patient has no request in this release's draw."


class MoveTooFar(RuleViolated):
    code, message = "move_too_far", "A session can be moved at most 90 days ahead."


class MoveInPast(RuleViolated):
    code, message = "move_in_past", "A session can only be moved to a time that has not passed."
