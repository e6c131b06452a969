"""Acceptance 2: every HL7 R4 example of a supported type and every Synthea bundle round-trips through the
REST API (created, read back equal apart from meta); $everything of each Synthea patient returns every
resource of that patient."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SHARED_DATA, shared_data
from zhiyi.fhir import params


def _examples() -> list:
    folder = SHARED_DATA / "fhir-r4-examples"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [f for f in files if f.name.split("-", 1)[0] in params.declared_types()]


def _without_meta(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k != "meta"}


def _meta_kept(sent: dict, stored: dict) -> None:
    """What the client put in meta (tags, profiles, security) is kept; the server sets only the version
    and the time."""
    for key, value in (sent.get("meta") or {}).items():
        if key not in ("versionId", "lastUpdated"):
            assert stored["meta"][key] == value


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
async def test_an_hl7_example_round_trips(client, admin_headers, path):
    resource = json.loads(path.read_text())
    rtype, rid = resource["resourceType"], resource["id"]
    put = await client.put(f"/fhir/{rtype}/{rid}", content=json.dumps(resource), headers=admin_headers)
    assert put.status_code == 201, put.text
    got = await client.get(f"/fhir/{rtype}/{rid}", headers=admin_headers)
    assert got.status_code == 200
    assert _without_meta(got.json()) == _without_meta(resource)
    _meta_kept(resource, got.json())


def test_the_examples_are_there():
    shared_data("fhir-r4-examples")
    assert len(_examples()) > 100


def _synthea() -> list[str]:
    folder = SHARED_DATA / "synthea-r4"
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.glob("*.json") if not p.name.startswith(("hospital", "practitioner"))
    )


def _rewrite(node, ids: dict[str, str]):
    if isinstance(node, dict):
        return {k: (ids.get(v, v) if k == "reference" else _rewrite(v, ids)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, ids) for v in node]
    return node


@pytest.mark.parametrize("name", _synthea())
async def test_a_synthea_bundle_round_trips_and_everything_returns_it(client, admin_headers, name):
    bundle = json.loads(shared_data("synthea-r4", name).read_text())
    answer = await client.post("/fhir", content=json.dumps(bundle), headers=admin_headers)
    assert answer.status_code == 200, answer.text[:2000]
    entries = answer.json()["entry"]
    assert len(entries) == len(bundle["entry"])
    ids = {}
    for sent, got in zip(bundle["entry"], entries, strict=True):
        assert got["response"]["status"].startswith("201")
        rtype, rid = got["response"]["location"].split("/_history")[0].split("/")[-2:]
        ids[sent["fullUrl"]] = f"{rtype}/{rid}"
    patient = next(ids[e["fullUrl"]] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    for sent in bundle["entry"]:
        got = await client.get(f"/fhir/{ids[sent['fullUrl']]}", headers=admin_headers)
        assert got.status_code == 200
        expected = _rewrite(sent["resource"], ids)
        expected["id"] = ids[sent["fullUrl"]].split("/")[1]
        assert _without_meta(got.json()) == _without_meta(expected)
    everything = await client.get(f"/fhir/{patient}/$everything?_count=5000", headers=admin_headers)
    assert everything.status_code == 200
    returned = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in everything.json()["entry"]}
    # the patient's own: every resource of the bundle that refers to the patient through a parameter of the
    # Patient compartment (Organizations and Practitioners are not the patient's)
    own = {
        ids[e["fullUrl"]]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] not in ("Organization", "Practitioner")
    }
    assert own <= returned, sorted(own - returned)[:10]
