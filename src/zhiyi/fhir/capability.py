"""The CapabilityStatement (GET /fhir/metadata), generated from what the server really does: the declared
types and their search parameters, the interactions the router serves. Built once per process."""

from __future__ import annotations

import datetime as dt
import functools

from zhiyi import __version__
from zhiyi.fhir import params
from zhiyi.fhir.exchange import instant

__all__ = ["TYPE_INTERACTIONS", "statement"]

STARTED_AT = dt.datetime.now(dt.UTC)  # the statement's date: this process's software is what it describes

TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
SYSTEM_INTERACTIONS = ("transaction", "batch", "history-system")
_VALIDATE = {"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}
_EVERYTHING = {
    "name": "everything",
    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
}


def statement(base_url: str) -> dict:
    """The statement, with this server's address as the implementation's url."""
    return {**_statement(), "implementation": {"description": "Zhiyi FHIR R4 server", "url": base_url}}


def _reference_params(rtype: str) -> list[params.SearchParam]:
    return [p for p in params.for_type(rtype).values() if p.type == "reference"]


def _rev_includes() -> dict[str, list[str]]:
    """For each type, the `Source:param` reference parameters that may point at it (no target: any)."""
    found: dict[str, list[str]] = {t: [] for t in params.declared_types()}
    for source in sorted(params.declared_types()):
        for param in _reference_params(source):
            for target in param.target or tuple(found):
                if target in found:
                    found[target].append(f"{source}:{param.code}")
    return found


def _resource(rtype: str, rev_includes: list[str]) -> dict:
    entry = {
        "type": rtype,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{rtype}",
        "interaction": [{"code": code} for code in TYPE_INTERACTIONS],
        "versioning": "versioned",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "not-supported",
        "conditionalUpdate": True,
        "conditionalDelete": "not-supported",
        "referencePolicy": ["literal", "local"],
        "searchInclude": [f"{rtype}:{p.code}" for p in _reference_params(rtype)],
        "searchRevInclude": sorted(rev_includes),
        "searchParam": [{"name": p.code, "type": p.type} for p in params.for_type(rtype).values()],
        "operation": [_VALIDATE] + ([_EVERYTHING] if rtype == "Patient" else []),
    }
    # FHIR forbids empty arrays: a type nothing points at has no searchRevInclude
    return {key: value for key, value in entry.items() if value != []}


@functools.cache
def _statement() -> dict:
    rev = _rev_includes()
    return {
        "resourceType": "CapabilityStatement",
        "name": "ZhiyiFhirServer",
        "title": "Zhiyi FHIR R4 server",
        "status": "active",
        "date": instant(STARTED_AT),
        "publisher": "Zhiyi",
        "kind": "instance",
        "software": {"name": "Zhiyi", "version": __version__},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "Bearer access tokens of Zhiyi accounts (POST /api/v1/auth/token).",
                },
                "resource": [_resource(t, rev[t]) for t in sorted(params.declared_types())],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
            }
        ],
    }
