"""Reading Zhiyi's own resources back from the FHIR repository in tests, and checking them as R4."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class

from zhiyi.fhir import bindings, owned, store
from zhiyi.fhir.errors import FhirError


async def current(session, rtype: str, rid) -> dict | None:
    """The resource's current content (None when there is none or it was deleted)."""
    try:
        return (await store.read(session, owned.SYSTEM, rtype, str(rid))).content
    except FhirError:
        return None


async def version(session, rtype: str, rid) -> str | None:
    found = await current(session, rtype, rid)
    return found["meta"]["versionId"] if found else None


def valid(resource: dict) -> dict:
    """The resource, after R4B's model has read it (cardinality, types, formats) and Zhiyi's code systems
    have found their codes."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert not bindings.issues(resource, resource["resourceType"])  # Zhiyi's own code systems' codes
    return resource


def bundle_ids(bundle: dict) -> set[str]:
    """`Type/id` of a Bundle's resources, its OperationOutcome entry aside."""
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] != "OperationOutcome"
    }
