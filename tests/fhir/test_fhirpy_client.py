"""Acceptance 1: a FHIR client nobody here wrote (fhirpy, async) drives a real Zhiyi server over a socket
on both databases: create, read, update, conditional update, search with a chained parameter and
_include, paging, history and a transaction."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from tests.conftest import _pg_create, _pg_drop
from tests.servers import demo_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def served(backend, tmp_path_factory):
    base = tmp_path_factory.mktemp("fhirpy")
    if backend.name == "sqlite":
        with demo_server(base) as root:
            yield root
        return
    name = f"zhiyi_fhirpy_{uuid.uuid4().hex[:8]}"
    url = _pg_create(name)
    try:
        with demo_server(base, url) as root:
            yield root
    finally:
        _pg_drop(name)


def _token(root: str, login: str, password: str) -> str:
    r = httpx.post(f"{root}/api/v1/auth/token", data={"username": login, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def fhir(served) -> AsyncFHIRClient:
    token = _token(served, "demo-admin", "admin-demo-2468")
    return AsyncFHIRClient(f"{served}/fhir", authorization=f"Bearer {token}")


async def test_create_read_update_and_history(fhir):
    family = f"Fhirpy{uuid.uuid4().hex[:6]}"
    patient = fhir.resource("Patient", name=[{"family": family, "given": ["Mei"]}], gender="female")
    await patient.save()
    assert patient.id and patient["meta"]["versionId"] == "1"
    fetched = await fhir.resources("Patient").search(_id=patient.id).get()
    assert fetched["name"][0]["family"] == family
    fetched["birthDate"] = "1980-02-29"
    await fetched.save()
    again = await fhir.reference("Patient", patient.id).to_resource()
    assert again["birthDate"] == "1980-02-29" and again["meta"]["versionId"] == "2"
    history = await fhir.execute(f"Patient/{patient.id}/_history", method="get")
    assert history["type"] == "history" and [
        e["resource"]["meta"]["versionId"] for e in history["entry"]
    ] == ["2", "1"]
    await again.delete()
    with pytest.raises((ResourceNotFound, OperationOutcome)):
        await fhir.reference("Patient", patient.id).to_resource()


async def test_conditional_update_creates_then_updates_the_one_match(fhir):
    mrn = f"MRN-{uuid.uuid4().hex[:8]}"
    resource = fhir.resource(
        "Patient",
        identifier=[{"system": "http://hospital.example/mrn", "value": mrn}],
        name=[{"family": "Cond"}],
    )
    search = fhir.resources("Patient").search(identifier=f"http://hospital.example/mrn|{mrn}")
    _, created = await search.update(resource)
    assert created
    resource["gender"] = "male"
    updated, created = await search.update(resource)
    assert not created and updated["gender"] == "male"
    assert await search.count() == 1


async def test_chained_search_include_and_paging(fhir):
    family = f"Chain{uuid.uuid4().hex[:6]}"
    practitioner = fhir.resource("Practitioner", name=[{"family": "Lin", "given": ["Hua"]}])
    await practitioner.save()
    patient = fhir.resource("Patient", name=[{"family": family}])
    await patient.save()
    for i in range(7):
        obs = fhir.resource(
            "Observation",
            status="final",
            code={"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            subject=patient.to_reference(),
            performer=[practitioner.to_reference()],
            effectiveDateTime=f"2026-01-0{i + 1}T08:00:00+08:00",
            valueQuantity={
                "value": 60 + i,
                "unit": "/min",
                "system": "http://unitsofmeasure.org",
                "code": "/min",
            },
        )
        await obs.save()
    chained = fhir.resources("Observation").search(**{"subject:Patient.name": family})
    assert await chained.count() == 7
    every = await chained.limit(3).sort("date").fetch_all()  # follows the next links
    assert [o["valueQuantity"]["value"] for o in every] == [60, 61, 62, 63, 64, 65, 66]
    raw = await chained.include("Observation", "performer").limit(50).fetch_raw()
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in raw["entry"]}
    assert modes == {("Observation", "match"), ("Practitioner", "include")}


async def test_a_transaction_resolves_its_references(fhir):
    family = f"Tx{uuid.uuid4().hex[:6]}"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:2b8d0c5e-0d6c-4b4f-9b44-2b7c9f0f0a01",
                "resource": {"resourceType": "Patient", "name": [{"family": family}]},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": "urn:uuid:2b8d0c5e-0d6c-4b4f-9b44-2b7c9f0f0a01"},
                    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}]},
                },
                "request": {"method": "POST", "url": "Condition"},
            },
        ],
    }
    answer = await fhir.execute("", method="post", data=bundle)
    assert answer["type"] == "transaction-response"
    assert [e["response"]["status"][:3] for e in answer["entry"]] == ["201", "201"]
    patient = await fhir.resources("Patient").search(name=family).first()
    conditions = await fhir.resources("Condition").search(subject=f"Patient/{patient.id}").fetch()
    assert [c["code"]["coding"][0]["code"] for c in conditions] == ["E11.9"]
