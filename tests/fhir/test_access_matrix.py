"""Acceptance 4: a patient's token reaches only that patient's compartment, whatever the interaction:
read, vread, search, _include, _revinclude, chained search, _has, history, $everything, and the entries
of a batch or a transaction. Each row names a way in and what the other patient's data must not do."""

from __future__ import annotations

import json

import pytest

from tests.factories.fhir import bundle_ids


def _obs(oid: str, pid: str, performer: str = "pr1") -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "performer": [{"reference": f"Practitioner/{performer}"}],
        "valueQuantity": {"value": 70, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
    }


@pytest.fixture
async def world(client, admin_headers, patient_caller):
    mine, me = await patient_caller("fhir-me")
    _, other = await patient_caller("fhir-other")
    resources = [
        {"resourceType": "Patient", "id": me, "name": [{"family": "Mine"}]},
        {"resourceType": "Patient", "id": other, "name": [{"family": "Other"}]},
        {"resourceType": "Practitioner", "id": "pr1", "name": [{"family": "Doc"}]},
        _obs("obs-mine", me),
        _obs("obs-other", other),
    ]
    for r in resources:
        put = await client.put(
            f"/fhir/{r['resourceType']}/{r['id']}", content=json.dumps(r), headers=admin_headers
        )
        assert put.status_code == 201, put.text
    # a second version of the other patient's observation (its history)
    resources[4]["status"] = "amended"
    await client.put("/fhir/Observation/obs-other", content=json.dumps(resources[4]), headers=admin_headers)
    return mine, me, other


async def test_reads_of_the_other_patient_are_not_found(client, world):
    mine, me, other = world
    for path in (
        f"Patient/{other}",
        "Observation/obs-other",
        "Observation/obs-other/_history/1",
        "Observation/obs-other/_history",
        f"Patient/{other}/_history",
        f"Patient/{other}/$everything",
    ):
        r = await client.get(f"/fhir/{path}", headers=mine)
        assert r.status_code == 404, (path, r.status_code, r.text[:300])
        assert r.json()["resourceType"] == "OperationOutcome"
    assert (await client.get("/fhir/Observation/obs-mine", headers=mine)).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "Observation",
        "Observation?subject=Patient/{other}",
        "Observation?code=8867-4",
        "Observation?_include=Observation:subject",
        "Patient?_revinclude=Observation:subject",
        "Practitioner?_revinclude=Observation:performer",
        "Observation?subject:Patient.name=Other",
        "Patient?_has:Observation:subject:code=8867-4",
        "Patient",
        "Observation/_history",
        "_history",
    ],
)
async def test_searches_and_histories_never_return_the_other_patient(client, world, query):
    mine, me, other = world
    r = await client.get(f"/fhir/{query.format(other=other)}", headers=mine)
    assert r.status_code == 200, r.text[:300]
    found = bundle_ids(r.json())
    assert not any(other in i or i == "Observation/obs-other" for i in found), found
    assert found <= {f"Patient/{me}", "Observation/obs-mine", "Practitioner/pr1"}


async def test_everything_of_my_own_is_mine_only(client, world):
    mine, me, _ = world
    r = await client.get(f"/fhir/Patient/{me}/$everything", headers=mine)
    assert r.status_code == 200
    assert bundle_ids(r.json()) == {f"Patient/{me}", "Observation/obs-mine"}


@pytest.mark.parametrize("kind", ["batch", "transaction"])
async def test_bundle_entries_obey_the_same_gate(client, world, kind):
    mine, me, other = world
    bundle = {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{other}"}},
            {"request": {"method": "GET", "url": f"Observation?subject=Patient/{other}"}},
        ],
    }
    r = await client.post("/fhir", content=json.dumps(bundle), headers=mine)
    body = r.json()
    if kind == "batch":
        assert r.status_code == 200
        assert body["entry"][0]["response"]["status"].startswith("404")
        assert bundle_ids(body["entry"][1].get("resource", {})) == set()
    else:
        assert r.status_code == 404 and body["resourceType"] == "OperationOutcome"


async def test_a_patient_cannot_write_into_anyones_compartment(client, world):
    mine, me, other = world
    for pid in (me, other):
        r = await client.post(
            "/fhir/Observation",
            content=json.dumps({k: v for k, v in _obs("x", pid).items() if k != "id"}),
            headers=mine,
        )
        assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"
