"""Errors of the patients domain."""

from zhiyi.core.errors import Conflict, FieldError, NotFound, RuleViolated, ValidationFailed


class PatientNotFound(NotFound):
    code, message = "patient_not_found", "No such patient."


class ResidentIdRuleViolated(ValidationFailed):
    code, message = "resident_id_invalid", "The resident ID number is not valid."

    def __init__(self, reason: str, field: str = "id_number"):
        super().__init__(errors=[FieldError(field, self.message, f"resident_id.{reason}")])


class PatientAlreadyRegistered(Conflict):
    code, message = "patient_exists", "A patient with this resident ID number is already registered."


class ProxyRuleViolated(RuleViolated):
    code, message = "proxy_rule_violated", "This family link is not allowed."


class ProxyCodeInvalid(RuleViolated):
    code, message = "proxy_code_invalid", "The confirmation code is wrong or has expired."


class OneCodeInvalid(RuleViolated):
    code, message = "onecode_invalid", "This patient code is not valid or has expired."


class SearchNeedsAFilter(RuleViolated):
    code, message = (
        "search_needs_a_filter",
        ("Search by name, record number, phone or ID number: whole lists of patients are not shown."),
    )


class IdNumberUnreadable(Conflict):
    code, message = (
        "id_number_unreadable",
        ("The stored ID number cannot be read with this server's data key; ask the administrator."),
    )
