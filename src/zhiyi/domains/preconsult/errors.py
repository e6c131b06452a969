"""Errors of the pre-consultation domain."""

from zhiyi.core.errors import Conflict, NotFound, ValidationFailed


class UnknownDepartment(NotFound):
    code, message = "unknown_department", "No department has this code."


class BookingNotFound(NotFound):
    code, message = "booking_not_found", "No such booking."


class BookingNotActive(Conflict):
    code, message = (
        "booking_not_active",
        "This booking was cancelled or is over; there is nothing to prepare for.",
    )


class ResponseNotFound(NotFound):
    code, message = "response_not_found", "No such pre-consultation form."


class AnswersInvalid(ValidationFailed):
    """Each FieldError's `field` is the linkId of the question (or the part of the resource) at fault."""

    code, message = "answers_invalid", "Some answers are missing or invalid."
