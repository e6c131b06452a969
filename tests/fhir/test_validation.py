"""Resource validation against data nobody here wrote: every HL7 R4 example and every Synthea resource of
a declared type validates; broken resources are refused with the element named."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared_data
from zhiyi.fhir import params
from zhiyi.fhir.errors import FhirError
from zhiyi.fhir.validation import validate


def _examples() -> list[dict]:
    """Each HL7 example of a declared type, and each declared-type resource inside the example Bundles."""
    found = []
    for path in sorted(shared_data("fhir-r4-examples").glob("*.json")):
        if path.name == "package.json":
            continue
        resource = json.loads(path.read_text(encoding="utf-8"))
        inner = [e["resource"] for e in resource.get("entry", []) if "resource" in e]
        for r in [resource] if resource["resourceType"] != "Bundle" else inner:
            if r.get("resourceType") in params.declared_types():
                found.append(r)
    return found


def _synthea() -> list[dict]:
    found = []
    for path in sorted(shared_data("synthea-r4").glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        found.extend(e["resource"] for e in bundle["entry"])
    return found


def _refusals(resources: list[dict]) -> list[str]:
    refused = []
    for r in resources:
        try:
            validate(r, rtype_from_url=None)
        except FhirError as err:
            refused.append(f"{r['resourceType']}/{r.get('id')}: {err}")
    return refused


def test_every_hl7_r4_example_of_a_declared_type_validates():
    examples = _examples()
    assert len(examples) > 250
    assert _refusals(examples) == []


def test_every_synthea_resource_validates():
    resources = _synthea()
    assert len(resources) > 1000
    assert {r["resourceType"] for r in resources} <= params.declared_types()
    assert _refusals(resources) == []


def _refused(resource, rtype_from_url=None) -> FhirError:
    with pytest.raises(FhirError) as caught:
        validate(resource, rtype_from_url=rtype_from_url)
    return caught.value


def _pointed(err: FhirError) -> dict[str, str]:
    return {e: i.code for i in err.issues for e in i.expression}


@pytest.mark.parametrize(
    ("resource", "status", "expression", "code"),
    [
        ({"resourceType": "Patient", "birthDate": "1970-13-45"}, 422, "Patient.birthDate", "value"),
        ({"resourceType": "Patient", "colour": "blue"}, 400, "Patient.colour", "structure"),
        ({"resourceType": "Patient", "name": [{"given": [3]}]}, 400, "Patient.name[0].given[0]", "structure"),
        ({"resourceType": "Observation", "status": "final"}, 422, "Observation.code", "required"),
        (
            {"resourceType": "Observation", "code": {}, "status": "final"},
            400,
            "Observation.code",
            "structure",
        ),
        ({"resourceType": "Patient", "name": []}, 400, "Patient.name", "structure"),
        ({"resourceType": "Patient", "gender": ""}, 422, "Patient.gender", "value"),
        ({"resourceType": "Patient", "birthDate": None}, 400, "Patient.birthDate", "structure"),
        # the models' Python names for elements are not FHIR's
        (
            {"resourceType": "Encounter", "status": "planned", "class_fhir": {"code": "AMB"}},
            400,
            "Encounter.class_fhir",
            "structure",
        ),
        ({"resourceType": "Patient", "gender__ext": {"id": "a"}}, 400, "Patient.gender__ext", "structure"),
        (
            {"resourceType": "Patient", "contained": [{"resourceType": "Patient", "birthDate": "x"}]},
            422,
            "Patient.contained[0].birthDate",
            "value",
        ),
    ],
)
def test_an_invalid_resource_is_refused_at_its_element(resource, status, expression, code):
    err = _refused(resource)
    assert err.status == status
    assert _pointed(err).get(expression) == code, err.issues


@pytest.mark.parametrize(
    ("resource", "rtype_from_url"),
    [
        ([{"resourceType": "Patient"}], None),
        ("Patient", None),
        ({"name": [{"family": "Chalmers"}]}, None),
        ({"resourceType": "Basic"}, None),  # not a declared type
        ({"resourceType": "Patient"}, "Observation"),
    ],
)
def test_a_body_that_is_not_a_declared_resource_is_a_400(resource, rtype_from_url):
    assert _refused(resource, rtype_from_url).status == 400


def test_a_valid_resource_passes():
    validate(
        {
            "resourceType": "Patient",
            "id": "p1",
            "name": [{"family": "Chalmers", "given": ["Peter"]}],
            "_gender": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
        },
        rtype_from_url="Patient",
    )


async def test_a_code_of_zhiyis_own_system_must_be_one_of_its_codes(client, admin_headers):
    """Required bindings of Zhiyi's code systems (fhir/bindings.py): org's practitioner titles."""
    practitioner = {
        "resourceType": "Practitioner",
        "id": "titled",
        "qualification": [
            {"code": {"coding": [{"system": "urn:zhiyi:practitioner-title", "code": "chief"}]}}
        ],
    }
    ok = await client.put(
        "/fhir/Practitioner/titled", content=json.dumps(practitioner), headers=admin_headers
    )
    assert ok.status_code == 201, ok.text
    practitioner["id"] = "mistitled"
    practitioner["qualification"][0]["code"]["coding"][0]["code"] = "emperor"
    bad = await client.put(
        "/fhir/Practitioner/mistitled", content=json.dumps(practitioner), headers=admin_headers
    )
    assert bad.status_code == 422
    issue = bad.json()["issue"][0]
    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["Practitioner.qualification[0].code.coding[0].code"]
    assert (await client.get("/fhir/Practitioner/mistitled", headers=admin_headers)).status_code == 404
