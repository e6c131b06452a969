"""Domain errors and their one mapping to HTTP.

Every API error has the same JSON shape:
    {"code": "...", "message": "...", "errors": [{"field": "...", "message": "...", "type": "..."}],
     "request_id": "..."}
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str
    type: str = "invalid"


class DomainError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.errors = errors or []
        self.headers = headers or {}
        self.params = params or {}  # fill the message's %(name)s after translation


class NotAuthenticated(DomainError):
    status, code, message = 401, "not_authenticated", "Authentication required."


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "You are not allowed to do this."


class NotFound(DomainError):
    status, code, message = 404, "not_found", "Not found."


class Conflict(DomainError):
    status, code, message = 409, "conflict", "Conflicts with the current state."


class RuleViolated(DomainError):
    status, code, message = 422, "rule_violated", "A rule of the domain forbids this."


class ValidationFailed(DomainError):
    status, code, message = 422, "validation_failed", "Some fields are invalid."


class TooManyRequests(DomainError):
    status, code, message = 429, "too_many_requests", "Too many attempts; try again later."


@dataclass
class ErrorBody:
    code: str
    message: str
    errors: list[FieldError] = field(default_factory=list)
    request_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # for the message, after translation; not sent

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [e.__dict__ for e in self.errors],
            "request_id": self.request_id,
        }
