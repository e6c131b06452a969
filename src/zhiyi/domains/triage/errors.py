"""Errors of the triage domain."""

from zhiyi.core.errors import Conflict, NotFound


class AssessmentNotFound(NotFound):
    code, message = "assessment_not_found", "No such triage assessment."


class HandoverNotFound(NotFound):
    code, message = "handover_not_found", "No such request to the service desk."


class HandoverTaken(Conflict):
    code, message = "handover_taken", "Another agent has taken this request."


class HandoverNotTaken(Conflict):
    code, message = "handover_not_taken", "Take this request before answering or closing it."


class HandoverClosed(Conflict):
    code, message = "handover_closed", "This conversation is closed."
