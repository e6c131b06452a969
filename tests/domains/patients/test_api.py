"""Access control and audit on patient records through the API (acceptance 3)."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core.audit import AuditEvent


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    east = await orgf.campus(session, code="EAST")
    alice_p = await pf.patient(session, campus=main, name="李丽", phone="13900000001")
    bob_p = await pf.patient(session, campus=east, name="王强", phone="13900000002")
    mother = await pf.patient(session, campus=main, name="李母", age=78, male=False, phone="13900000003")
    alice = await accounts.account(session, username="alice", roles={"patient"}, patient=alice_p)
    bob = await accounts.account(session, username="bob", roles={"patient"}, patient=bob_p)
    doctor = await accounts.account(session, username="doc", roles={"doctor"}, campuses=[main])
    admin = await accounts.account(session, username="admin", roles={"admin"}, group_wide=True)
    await session.commit()
    return SimpleNamespace(
        main=main,
        east=east,
        alice_p=alice_p,
        bob_p=bob_p,
        mother=mother,
        alice=await accounts.bearer(session, alice),
        bob=await accounts.bearer(session, bob),
        doctor=await accounts.bearer(session, doctor),
        admin=await accounts.bearer(session, admin),
        alice_id=alice.id,
    )


async def audit_count(session, patient_id, outcome=None) -> int:
    q = select(func.count()).select_from(AuditEvent).where(AuditEvent.patient_id == patient_id)
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    return int(await session.scalar(q))


async def test_patient_reads_own_record_and_it_is_audited(client, world, session):
    r = await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=world.alice)
    assert r.status_code == 200
    assert r.json()["name"] == "李丽"
    body = r.json()
    assert "id_number" not in body and re.fullmatch(r"\d{4}\*{10}[\dX]{4}", body["id_number_masked"])
    assert body["birth_date"] is not None  # her own record: her date of birth
    assert await audit_count(session, world.alice_p.id, "allowed") == 1


async def test_patient_cannot_read_another_patient_and_the_attempt_is_audited(client, world, session):
    r = await client.get(f"/api/v1/patients/{world.bob_p.id}", headers=world.alice)
    assert r.status_code in (403, 404)
    assert r.json()["code"] in ("forbidden", "not_found")
    assert "王强" not in r.text
    rows = (await session.scalars(select(AuditEvent).where(AuditEvent.patient_id == world.bob_p.id))).all()
    assert [(e.outcome, e.actor_account_id, e.client_addr) for e in rows] == [
        ("denied", world.alice_id, "203.0.113.7")
    ]
    assert rows[0].request_id == r.headers["x-request-id"]


async def test_unknown_patient_is_404_and_audited(client, world, session):
    ghost = uuid.uuid4()
    r = await client.get(f"/api/v1/patients/{ghost}", headers=world.alice)
    assert r.status_code == 404
    n = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.resource_id == str(ghost))
    )
    assert n == 1


async def test_dependent_readable_only_after_consent(client, world, session, sandbox, drain):
    # before any link: denied
    r = await client.get(f"/api/v1/patients/{world.mother.id}", headers=world.alice)
    assert r.status_code == 403
    # request the link: an adult must consent with the code sent to her phone
    r = await client.post(
        "/api/v1/patients/me/dependents",
        headers=world.alice,
        json={"name": "李母", "id_number": pf.security_id(world.mother), "relationship": "parent"},
    )
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["status"] == "pending"
    r = await client.get(f"/api/v1/patients/{world.mother.id}", headers=world.alice)
    assert r.status_code == 403  # pending is not consent
    await drain()
    code = sandbox.last_to("13900000003").params["code"]
    wrong = "000000" if code != "000000" else "111111"
    r = await client.post(
        f"/api/v1/patients/me/dependents/{link['id']}/confirm", headers=world.alice, json={"code": wrong}
    )
    assert r.status_code == 422 and r.json()["code"] == "proxy_code_invalid"
    r = await client.post(
        f"/api/v1/patients/me/dependents/{link['id']}/confirm", headers=world.alice, json={"code": code}
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = await client.get(f"/api/v1/patients/{world.mother.id}", headers=world.alice)
    assert r.status_code == 200 and r.json()["name"] == "李母"
    ev = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.patient_id == world.mother.id,
                AuditEvent.action == "read",
                AuditEvent.outcome == "allowed",
            )
        )
    ).all()
    assert len(ev) == 1 and ev[0].on_behalf_of_patient_id == world.mother.id
    assert await audit_count(session, world.mother.id, "denied") == 2
    # bob still cannot
    r = await client.get(f"/api/v1/patients/{world.mother.id}", headers=world.bob)
    assert r.status_code == 403


async def test_a_desk_sees_patients_of_its_campus_only(client, world, session):
    desk = await accounts.account(session, username="desk-main", roles={"registrar"}, campuses=[world.main])
    headers = await accounts.bearer(session, desk)
    await session.commit()
    assert (await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/patients/{world.bob_p.id}", headers=headers)).status_code == 403


async def test_a_doctor_without_a_care_relationship_sees_nothing(client, world):
    """Being on the same campus is not enough for a clinician (tests/domains/patients/test_care.py)."""
    assert (await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=world.doctor)).status_code == 403


async def test_admin_lists_audit_trail_and_trail_cannot_be_edited(client, world, session):
    await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=world.alice)
    await client.get(f"/api/v1/patients/{world.alice_p.id}", headers=world.bob)
    r = await client.get(f"/api/v1/patients/{world.alice_p.id}/audit", headers=world.admin)
    assert r.status_code == 200
    # the admin's own reading of the trail is audited too
    assert sorted((e["action"], e["outcome"]) for e in r.json()) == [
        ("audit.read", "allowed"),
        ("read", "allowed"),
        ("read", "denied"),
    ]
    # patients cannot read the trail
    assert (
        await client.get(f"/api/v1/patients/{world.alice_p.id}/audit", headers=world.alice)
    ).status_code == 403
    # the database itself refuses edits
    event = (await session.scalars(select(AuditEvent).limit(1))).first()
    with pytest.raises(Exception, match="append-only"):
        async with session.begin_nested():
            event.outcome = "allowed-edited"
            await session.flush()
    await session.rollback()


async def test_one_code_token_is_opaque_and_staff_scan_finds_patient(client, world):
    r = await client.get(f"/api/v1/patients/{world.alice_p.id}/onecode", headers=world.alice)
    assert r.status_code == 200
    token = r.json()["token"]
    assert "<svg" in r.json()["svg"]
    sealed_id = pf.security_id(world.alice_p)
    assert sealed_id not in token and str(world.alice_p.id) not in token
    r = await client.post("/api/v1/patients/onecode/scan", headers=world.doctor, json={"token": token})
    assert r.status_code == 200 and r.json()["id"] == str(world.alice_p.id)
    r = await client.post(
        "/api/v1/patients/onecode/scan", headers=world.doctor, json={"token": token[:-4] + "AAAA"}
    )
    assert r.status_code == 422 and r.json()["code"] == "onecode_invalid"
    # patients cannot scan
    r = await client.post("/api/v1/patients/onecode/scan", headers=world.bob, json={"token": token})
    assert r.status_code == 403


async def test_no_token_is_401(client, world):
    r = await client.get(f"/api/v1/patients/{world.alice_p.id}")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    r = await client.get(f"/api/v1/patients/{world.alice_p.id}", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_listing_family_is_audited_and_dependents_see_who_acts_for_them(client, world, session):
    r = await client.post(
        "/api/v1/patients/me/dependents",
        headers=world.alice,
        json={"name": "李小宝", "id_number": pf.id_number(age=7), "relationship": "child"},
    )
    assert r.status_code == 201 and r.json()["status"] == "active"
    child_id = r.json()["dependent_patient_id"]
    listed = await client.get("/api/v1/patients/me/dependents", headers=world.alice)
    assert [d["dependent_name"] for d in listed.json()] == ["李小宝"]
    n = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.patient_id == uuid.UUID(child_id), AuditEvent.action == "list")
    )
    assert n == 1
    mine = await client.get("/api/v1/patients/me/proxies", headers=world.bob)
    assert mine.status_code == 200 and mine.json() == []


async def test_listing_who_acts_for_me_is_audited(client, world, session):
    """Issue 15, item 9: the list names family members (their names, their links): audited per person."""
    await pf.family_link(session, proxy=world.mother, dependent=world.alice_p)
    await session.commit()
    before = await audit_count(session, world.mother.id)
    r = await client.get("/api/v1/patients/me/proxies", headers=world.alice)
    assert r.status_code == 200 and [x["dependent_name"] for x in r.json()] == ["李母"]
    assert await audit_count(session, world.mother.id) == before + 1
