"""Staff reach the FHIR repository as they reach the rest of Zhiyi (fhir/access.py): a doctor the
compartments of patients in their care (a booking with their department, patients/policy.py), a nurse
those booked at her campus, each named by the request; the directory (practitioners, organisations) to
anyone signed in; nothing else of a patient's, by read, search, _include or history. Each patient the
gate is asked about is audited, allowed or denied. Only a group-wide admin writes."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from tests.factories.fhir import bundle_ids
from tests.fhir.conftest import FHIR_JSON
from zhiyi.core.audit import AuditEvent


def _obs(oid: str, pid: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "performer": [{"reference": "Practitioner/staff-pr"}],
    }


@pytest.fixture
async def world(session, client, admin_headers):
    main = await orgf.campus(session, code="SMAIN", is_main=True)
    card = await orgf.department(session, code="S.CARD")
    derm = await orgf.department(session, code="S.DERM")
    doc = await orgf.practitioner(session, department=card, campuses=[main])
    skin = await orgf.practitioner(session, department=derm, campuses=[main])
    booked = await pf.patient(session, campus=main, name="在诊者")
    other = await pf.patient(session, campus=main, name="旁人")
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=card, campus=main, starts_in=dt.timedelta(days=2)
    )
    own = await accounts.account(session, username="fhir-staff-booked", roles={"patient"}, patient=booked)
    await sf.booking(session, cs=cs, slot=slots[0], patient=booked, account=own, status="booked")
    h = {}
    for name, spec in {
        "doctor": dict(roles={"doctor"}, campuses=[main], practitioner=doc),
        "derm": dict(roles={"doctor"}, campuses=[main], practitioner=skin),
        "nurse": dict(roles={"nurse"}, campuses=[main]),
        "executive": dict(roles={"executive"}, group_wide=True),
    }.items():
        acct = await accounts.account(session, username=f"fhir-staff-{name}", **spec)
        h[name] = {**FHIR_JSON, **await accounts.bearer(session, acct)}
    await session.commit()
    mine, theirs = str(booked.id), str(other.id)
    for r in (
        {"resourceType": "Patient", "id": mine, "name": [{"family": "在诊者"}]},
        {"resourceType": "Patient", "id": theirs, "name": [{"family": "旁人"}]},
        {"resourceType": "Practitioner", "id": "staff-pr", "name": [{"family": "Doc"}]},
        _obs("obs-booked", mine),
        _obs("obs-other", theirs),
    ):
        put = await client.put(
            f"/fhir/{r['resourceType']}/{r['id']}", content=json.dumps(r), headers=admin_headers
        )
        assert put.status_code == 201, put.text
    return SimpleNamespace(mine=mine, theirs=theirs, h=h)


async def test_a_doctor_reads_a_patient_in_their_care_and_no_other(client, world):
    doctor = world.h["doctor"]
    assert (await client.get(f"/fhir/Patient/{world.mine}", headers=doctor)).status_code == 200
    assert (await client.get("/fhir/Observation/obs-booked", headers=doctor)).status_code == 200
    assert (await client.get("/fhir/Observation/obs-booked/_history/1", headers=doctor)).status_code == 200
    for path in (f"Patient/{world.theirs}", "Observation/obs-other", "Observation/obs-other/_history"):
        response = await client.get(f"/fhir/{path}", headers=doctor)
        assert response.status_code == 404, (path, response.text)


async def test_a_search_reaches_the_named_patients_in_care_only(client, world):
    doctor = world.h["doctor"]
    found = await client.get(
        "/fhir/Observation",
        params={"patient": f"{world.mine},{world.theirs}", "_include": "Observation:subject"},
        headers=doctor,
    )
    assert found.status_code == 200
    assert bundle_ids(found.json()) == {"Observation/obs-booked", f"Patient/{world.mine}"}
    # a search naming nobody reaches the directory only
    unnamed = await client.get("/fhir/Observation", params={"code": "8867-4"}, headers=doctor)
    assert bundle_ids(unnamed.json()) == set()
    directory = await client.get(
        "/fhir/Practitioner", params={"_revinclude": "Observation:performer"}, headers=doctor
    )
    assert bundle_ids(directory.json()) == {"Practitioner/staff-pr"}
    history = await client.get("/fhir/Observation/_history", headers=doctor)
    assert bundle_ids(history.json()) == set()


async def test_another_department_and_an_executive_see_no_patient(client, world):
    for who in ("derm", "executive"):
        assert (await client.get(f"/fhir/Patient/{world.mine}", headers=world.h[who])).status_code == 404
        found = await client.get("/fhir/Observation", params={"patient": world.mine}, headers=world.h[who])
        assert bundle_ids(found.json()) == set()
    assert (await client.get(f"/fhir/Patient/{world.mine}", headers=world.h["nurse"])).status_code == 200


async def test_each_patient_asked_about_is_audited_allowed_or_denied(client, world, session):
    await client.get("/fhir/Observation", params={"patient": world.mine}, headers=world.h["doctor"])
    await client.get("/fhir/Observation", params={"patient": world.theirs}, headers=world.h["derm"])
    rows = (await session.execute(select(AuditEvent).where(AuditEvent.action == "read"))).scalars().all()
    outcomes = {(str(r.patient_id), r.outcome) for r in rows if r.resource_type == "patient"}
    assert (world.mine, "allowed") in outcomes and (world.theirs, "denied") in outcomes


async def test_staff_do_not_write(client, world):
    body = json.dumps(_obs("obs-new", world.mine))
    response = await client.put("/fhir/Observation/obs-new", content=body, headers=world.h["doctor"])
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"


async def test_a_family_proxy_reaches_the_dependents_compartment_and_no_further(
    session, client, admin_headers
):
    campus = await orgf.campus(session, code="SFAM")
    parent = await pf.patient(session, campus=campus, name="家长")
    child = await pf.patient(session, campus=campus, name="孩子")
    stranger = await pf.patient(session, campus=campus, name="陌生")
    await pf.family_link(session, proxy=parent, dependent=child)
    acct = await accounts.account(session, username="fhir-parent", roles={"patient"}, patient=parent)
    headers = {**FHIR_JSON, **await accounts.bearer(session, acct)}
    await session.commit()
    for p in (child, stranger):
        r = {"resourceType": "Patient", "id": str(p.id)}
        assert (
            await client.put(f"/fhir/Patient/{p.id}", content=json.dumps(r), headers=admin_headers)
        ).status_code == 201
        obs = _obs(f"obs-{p.id}", str(p.id))
        assert (
            await client.put(f"/fhir/Observation/{obs['id']}", content=json.dumps(obs), headers=admin_headers)
        ).status_code == 201
    assert (await client.get(f"/fhir/Patient/{child.id}", headers=headers)).status_code == 200
    found = await client.get(
        "/fhir/Observation", params={"patient": f"{child.id},{stranger.id}"}, headers=headers
    )
    assert bundle_ids(found.json()) == {f"Observation/obs-{child.id}"}
    assert (await client.get(f"/fhir/Patient/{stranger.id}", headers=headers)).status_code == 404
    assert (await client.get(f"/fhir/Observation/obs-{stranger.id}", headers=headers)).status_code == 404


async def test_has_chains_and_everything_reach_no_further_than_reads(client, world, admin_headers):
    doctor = world.h["doctor"]
    # _has looks at the referrers only within reach: the other patient's observation names staff-pr too
    for pid, expected in ((world.mine, {"Practitioner/staff-pr"}), (world.theirs, set())):
        found = await client.get(
            "/fhir/Practitioner", params={"_has:Observation:performer:patient": pid}, headers=doctor
        )
        assert bundle_ids(found.json()) == expected, pid
    # a directory resource whose chain ends at a patient out of reach
    schedule = {
        "resourceType": "Schedule",
        "id": "sched-x",
        "actor": [{"reference": "Practitioner/staff-pr"}],
    }
    await client.put("/fhir/Schedule/sched-x", content=json.dumps(schedule), headers=admin_headers)
    found = await client.get("/fhir/Schedule", params={"actor:Practitioner.name": "Doc"}, headers=doctor)
    assert bundle_ids(found.json()) == {"Schedule/sched-x"}
    # a resource about a patient outside the compartment definition (Device) is not directory
    device = {"resourceType": "Device", "id": "dev-x", "patient": {"reference": f"Patient/{world.theirs}"}}
    put = await client.put("/fhir/Device/dev-x", content=json.dumps(device), headers=admin_headers)
    assert put.status_code == 201, put.text
    found = await client.get("/fhir/Device", params={"patient": world.theirs}, headers=doctor)
    assert bundle_ids(found.json()) == set()
    assert (await client.get("/fhir/Device/dev-x", headers=doctor)).status_code == 404
    # a Patient that links to one in care is in that one's compartment, but its $everything is its own
    linked = {
        "resourceType": "Patient",
        "id": "linked-x",
        "link": [{"other": {"reference": f"Patient/{world.mine}"}, "type": "seealso"}],
    }
    await client.put("/fhir/Patient/linked-x", content=json.dumps(linked), headers=admin_headers)
    assert (await client.get("/fhir/Patient/linked-x/$everything", headers=doctor)).status_code == 404
