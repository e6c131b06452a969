"""The store on both databases: versions, history, deletion, compartments (no HTTP)."""

from __future__ import annotations

import pytest

from zhiyi.fhir import store
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError

WHOLE = Access(None, None)


def patient(pid: str, family: str) -> dict:
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": family, "given": ["Ann"]}],
        "gender": "female",
    }


def observation(oid: str, pid: str, code: str = "8867-4", value: float = 72) -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2026-03-01T10:00:00+08:00",
        "valueQuantity": {
            "value": value,
            "unit": "/min",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }


async def test_versions_are_kept_and_the_current_one_is_read(session):
    first = await store.update(session, WHOLE, "Patient", "p1", patient("p1", "Chalmers"))
    assert first.created and first.stored.version == 1
    second = await store.update(session, WHOLE, "Patient", "p1", patient("p1", "Windsor"))
    assert not second.created and second.stored.version == 2
    current = await store.read(session, WHOLE, "Patient", "p1")
    assert current.content["name"][0]["family"] == "Windsor" and current.content["meta"]["versionId"] == "2"
    old = await store.vread(session, WHOLE, "Patient", "p1", 1)
    assert old.content["name"][0]["family"] == "Chalmers"
    versions, _ = await store.history(session, WHOLE, rtype="Patient", rid="p1")
    assert [v.version for v in versions] == [2, 1]
    found = await store.search(session, WHOLE, "Patient", [("name", "wind")])
    assert [m.id for m in found.matches] == ["p1"]
    assert (await store.search(session, WHOLE, "Patient", [("name", "chal")])).matches == []


async def test_if_match_on_another_version_is_refused(session):
    await store.update(session, WHOLE, "Patient", "p2", patient("p2", "A"))
    with pytest.raises(FhirError) as caught:
        await store.update(session, WHOLE, "Patient", "p2", patient("p2", "B"), if_match=7)
    assert caught.value.status == 412


async def test_a_deleted_resource_is_gone_and_not_found_by_search(session):
    await store.update(session, WHOLE, "Patient", "p3", patient("p3", "Gone"))
    deleted = await store.delete(session, WHOLE, "Patient", "p3")
    assert deleted is not None and deleted.version == 2
    with pytest.raises(FhirError) as caught:
        await store.read(session, WHOLE, "Patient", "p3")
    assert caught.value.status == 410
    assert (await store.search(session, WHOLE, "Patient", [("name", "gone")])).matches == []
    assert await store.delete(session, WHOLE, "Patient", "p3") is None


async def test_a_patient_reaches_only_their_own_compartment(session):
    await store.update(session, WHOLE, "Patient", "pa", patient("pa", "Own"))
    await store.update(session, WHOLE, "Patient", "pb", patient("pb", "Other"))
    await store.update(session, WHOLE, "Observation", "oa", observation("oa", "pa"))
    await store.update(session, WHOLE, "Observation", "ob", observation("ob", "pb"))
    mine = Access(None, frozenset({"pa"}))
    assert (await store.read(session, mine, "Observation", "oa")).id == "oa"
    with pytest.raises(FhirError) as caught:
        await store.read(session, mine, "Observation", "ob")
    assert caught.value.status == 404
    found = await store.search(session, mine, "Observation", [("code", "8867-4")])
    assert [m.id for m in found.matches] == ["oa"]
    everything = await store.everything(session, WHOLE, "pa")
    assert {(r.type, r.id) for r in everything} == {("Patient", "pa"), ("Observation", "oa")}


async def test_pages_follow_the_sort_key_while_resources_are_added(session):
    for i in range(5):
        await store.update(session, WHOLE, "Patient", f"s{i}", patient(f"s{i}", f"Fam{i}"))
    first = await store.search(
        session, WHOLE, "Patient", [("name", "fam"), ("_sort", "-family"), ("_count", "2")]
    )
    assert [m.id for m in first.matches] == ["s4", "s3"] and first.next_cursor
    await store.update(session, WHOLE, "Patient", "s9", patient("s9", "Fam9"))  # sorts before the cursor
    second = await store.search(
        session,
        WHOLE,
        "Patient",
        [("name", "fam"), ("_sort", "-family"), ("_count", "2")],
        cursor=first.next_cursor,
    )
    assert [m.id for m in second.matches] == ["s2", "s1"]
