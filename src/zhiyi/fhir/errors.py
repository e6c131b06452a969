"""FHIR's errors: every refusal is an OperationOutcome with the HTTP status that goes with it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome.issue: `code` from the spec's IssueType (invalid, structure, required, value,
    not-found, deleted, conflict, not-supported, forbidden, processing, too-costly, ...); `expression` points
    at the element (FHIRPath, e.g. "Patient.birthDate")."""

    code: str
    diagnostics: str
    severity: str = "error"
    expression: tuple[str, ...] = ()

    def as_json(self) -> dict:
        issue: dict = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


@dataclass
class FhirError(Exception):
    """A refused interaction: nothing it did is kept (the edge rolls the transaction back)."""

    status: int
    issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues) or f"FHIR error {self.status}"

    def outcome(self) -> dict:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [i.as_json() for i in issues]}


def invalid(diagnostics: str, *, expression: str | None = None, status: int = 400, code: str = "invalid"):
    return FhirError(status, [Issue(code, diagnostics, expression=(expression,) if expression else ())])


def not_found(rtype: str, rid: str) -> FhirError:
    return FhirError(404, [Issue("not-found", f"{rtype}/{rid} is not known")])


def gone(rtype: str, rid: str) -> FhirError:
    return FhirError(410, [Issue("deleted", f"{rtype}/{rid} has been deleted")])


def conflict(diagnostics: str, *, status: int = 409) -> FhirError:
    return FhirError(status, [Issue("conflict", diagnostics)])


def not_supported(diagnostics: str, *, status: int = 400) -> FhirError:
    return FhirError(status, [Issue("not-supported", diagnostics)])


def forbidden(diagnostics: str = "You are not allowed to do this.") -> FhirError:
    return FhirError(403, [Issue("forbidden", diagnostics)])
