"""Every read of a patient's data is audited, and the trail is visible as FHIR AuditEvent resources
(fhir/trail.py): searched by patient, date and agent, paged, read by id, valid R4; for group-wide admins
only. Another system's AuditEvents stay the repository's."""

from __future__ import annotations

import json

from tests.factories.fhir import valid

TRAIL = "urn:zhiyi:audit"


async def _trail(client, headers, **params):
    response = await client.get("/fhir/AuditEvent", params={"_source": TRAIL, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_reads_of_a_patient_are_audit_events_on_their_trail(client, admin_headers, patient_caller):
    mine, me = await patient_caller("trail-me")
    patient = {"resourceType": "Patient", "id": me, "name": [{"family": "Trail"}]}
    put = await client.put(f"/fhir/Patient/{me}", content=json.dumps(patient), headers=admin_headers)
    assert put.status_code == 201
    assert (await client.get(f"/fhir/Patient/{me}", headers=mine)).status_code == 200
    assert (await client.get(f"/fhir/Patient/{me}", headers=admin_headers)).status_code == 200

    bundle = await _trail(client, admin_headers, patient=f"Patient/{me}")
    events = [e["resource"] for e in bundle["entry"]]
    assert len(events) >= 3  # the update and the two reads (newest first)
    for event in events:
        valid(event)
        assert event["meta"]["source"] == TRAIL
        assert {"reference": f"Patient/{me}"} in [x["what"] for x in event["entity"]]
    reads = [e for e in events if e["subtype"][0]["code"] == "fhir.read"]
    assert len(reads) == 2 and all(e["action"] == "R" and e["outcome"] == "0" for e in reads)
    assert [e["recorded"] for e in events] == sorted((e["recorded"] for e in events), reverse=True)

    one = await client.get(f"/fhir/AuditEvent/{events[0]['id']}", headers=admin_headers)
    assert one.status_code == 200 and one.json() == events[0]

    # dates and pages
    assert "entry" not in await _trail(client, admin_headers, patient=me, date="lt2000-01-01")
    first = await _trail(client, admin_headers, patient=me, _count="1")
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await client.get(following, headers=admin_headers)).json()
    assert second["entry"][0]["resource"]["id"] == events[1]["id"]


async def test_the_trail_is_the_privacy_officers(client, admin_headers, patient_caller):
    mine, me = await patient_caller("trail-nosy")
    response = await client.get("/fhir/AuditEvent", params={"_source": TRAIL, "patient": me}, headers=mine)
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"
    for params in ({"patient": "not-an-id"}, {"date": "yesterday"}, {"_cursor": "forged"}):
        response = await client.get(
            "/fhir/AuditEvent", params={"_source": TRAIL, **params}, headers=admin_headers
        )
        assert response.status_code == 400, (params, response.text)
    unknown = await client.get(
        "/fhir/AuditEvent/zhiyi-audit-00000000-0000-0000-0000-000000000000", headers=admin_headers
    )
    assert unknown.status_code == 404


async def test_another_systems_audit_events_are_stored_as_they_come(client, admin_headers):
    event = {
        "resourceType": "AuditEvent",
        "id": "their-event",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "recorded": "2026-01-02T03:04:05Z",
        "agent": [{"who": {"display": "their system"}, "requestor": True}],
        "source": {"observer": {"display": "their system"}},
    }
    put = await client.put("/fhir/AuditEvent/their-event", content=json.dumps(event), headers=admin_headers)
    assert put.status_code == 201, put.text
    found = await client.get("/fhir/AuditEvent", params={"_id": "their-event"}, headers=admin_headers)
    assert [e["resource"]["id"] for e in found.json()["entry"]] == ["their-event"]
