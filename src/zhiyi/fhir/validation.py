"""Is this JSON a valid resource of a type Zhiyi serves? The base specification's rules, checked by the
fhir.resources models, plus the JSON rules those models let through.

The models are fhir.resources' R4B (FHIR 4.3.0) ones, not R4 (4.0.1): fhir.resources 7 and later ship
R5 as the default and R4B as the only 4.x release (its R4 models were dropped with version 7). R4B is a
minor release over R4 with the same JSON for the resource types Zhiyi declares (its changes are to
medication-definition, evidence and subscription resources, none declared here); every one of the HL7
R4 examples and Synthea resources of a declared type validates unchanged (tests/fhir/test_validation.py),
so no list of tolerated R4-R4B differences is needed. Should one appear, it belongs in `_R4_ONLY` below,
with the spec's change log entry beside it.

Required bindings (status codes) are not checked by the models; cardinality, data types, primitive
formats and choice types ([x]) are. Unknown elements are refused (the models forbid extra fields).
"""

from __future__ import annotations

import functools
import re

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from zhiyi.fhir import bindings, params
from zhiyi.fhir.errors import FhirError, Issue

__all__ = ["model_class", "validate", "warm_up"]

# How a pydantic error's type maps to a FHIR IssueType: "structure" means the JSON cannot be read as this
# resource (a 400), the others that it reads but breaks a rule of the base specification (a 422).
_STRUCTURE_TYPES = frozenset(
    {
        "extra_forbidden",
        "string_type",
        "int_type",
        "int_parsing",
        "float_type",
        "bool_type",
        "bool_parsing",
        "dict_type",
        "list_type",
        "model_type",
        "model_attributes_type",
        "decimal_type",
        "is_instance_of",
    }
)
_REQUIRED_TYPES = frozenset({"missing", "model_field_validation.missing"})
_R4_ONLY: frozenset[str] = frozenset()  # R4 element paths R4B dropped (none met so far; see the docstring)
_FIELD_SUFFIX = re.compile(r"(__ext|_fhir)$")


@functools.cache
def model_class(rtype: str):
    """The R4B model of a declared type (imported on first use: each costs a few milliseconds)."""
    return get_fhir_model_class(rtype)


def warm_up() -> None:
    """Import every declared type's model now rather than in the first request for it."""
    for rtype in params.declared_types():
        model_class(rtype)


def validate(resource: object, *, rtype_from_url: str | None) -> None:
    """Raise a FhirError (400: not readable as the resource; 422: readable but breaking a rule) whose
    issues point at the elements, or return None."""
    if not isinstance(resource, dict):
        raise FhirError(400, [Issue("structure", "The body must be a JSON object (a FHIR resource).")])
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise FhirError(400, [Issue("required", "resourceType is missing.", expression=("resourceType",))])
    if rtype_from_url is not None and rtype != rtype_from_url:
        raise FhirError(
            400,
            [
                Issue(
                    "invalid",
                    f"The resource is a {rtype}, but the URL is for {rtype_from_url}.",
                    expression=("resourceType",),
                )
            ],
        )
    if rtype not in params.declared_types():
        raise FhirError(
            400,
            [
                Issue(
                    "not-supported",
                    f"Resource type {rtype!r} is not served here.",
                    expression=("resourceType",),
                )
            ],
        )
    issues = [] if _clean(resource) else _json_issues(resource, rtype)
    try:
        model_class(rtype).model_validate(resource)
    except ValidationError as exc:
        issues.extend(_model_issues(exc, rtype))
    issues.extend(bindings.issues(resource, rtype))
    if issues:
        status = 400 if any(i.code == "structure" for i in issues) else 422
        raise FhirError(status, issues)


def _clean(node: object) -> bool:
    """FHIR's JSON rules the models let through: no empty objects, arrays or strings, no null outside an
    array, and element names only as the spec spells them (the models also accept their Python names,
    `class_fhir` or `status__ext`, which would then be stored as unknown elements). The fast path: no
    paths built unless something is wrong."""
    if isinstance(node, dict):
        if not node:
            return False
        for key, value in node.items():
            if "_" in key[1:] or value is None or value == "" or not _clean(value):
                return False
        return True
    if isinstance(node, list):
        if not node:
            return False
        return all(v is None or _clean(v) for v in node)
    return True


def _json_issues(node: object, path: str) -> list[Issue]:
    found: list[Issue] = []
    if isinstance(node, dict):
        if not node:
            found.append(Issue("structure", "An object must not be empty.", expression=(path,)))
        for key, value in node.items():
            here = f"{path}.{key}"
            if "_" in key[1:]:
                found.append(Issue("structure", f"Unknown element {key!r}.", expression=(here,)))
            elif value is None:
                found.append(Issue("structure", "null is allowed only inside an array.", expression=(here,)))
            elif value == "":
                found.append(Issue("value", "A string must not be empty.", expression=(here,)))
            else:
                found.extend(_json_issues(value, here))
    elif isinstance(node, list):
        if not node:
            found.append(Issue("structure", "An array must not be empty.", expression=(path,)))
        for i, value in enumerate(node):
            if value is not None:
                found.extend(_json_issues(value, f"{path}[{i}]"))
    return found


def _model_issues(exc: ValidationError, rtype: str) -> list[Issue]:
    issues = []
    for error in exc.errors(include_url=False, include_input=False):
        path = _expression(rtype, error["loc"])
        if path in _R4_ONLY:
            continue
        kind = error["type"]
        message = error["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = f"Unknown element {str(error['loc'][-1])!r}."
        if kind in _STRUCTURE_TYPES:
            code = "structure"
        elif kind in _REQUIRED_TYPES:
            code, message = "required", "A required element is missing."
        elif kind.startswith("fhir-validation-wrong-resource-type"):
            code = "invalid"
        else:
            code = "value"
        issues.append(Issue(code, message, expression=(path,)))
    return issues


def _expression(rtype: str, loc: tuple) -> str:
    """A pydantic location as a FHIRPath-like expression ("Observation.component[0].code")."""
    path = rtype
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        name = str(part)
        if name == "resource_type":
            name = "resourceType"
        elif name.endswith("__ext"):
            name = "_" + name[: -len("__ext")]
        else:
            name = _FIELD_SUFFIX.sub("", name)
        path += f".{name}"
    return path
