"""Patients in the FHIR repository: a Patient after registration (delivered by the outbox), with what
staff see and no more (masked phone, the resident ID only as its keyed hash, no birth date); family
proxies as RelatedPersons while their link is active; FHIR clients cannot change them."""

from __future__ import annotations

import pytest

from tests.factories import fhir as ff
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.domains.patients import fhir
from zhiyi.domains.patients import service as patients


@pytest.fixture
async def campus(session):
    return await orgf.campus(session)


async def test_a_registered_patient_is_a_patient_resource_after_the_outbox_runs(session, campus, drain):
    p = await pf.patient(session, campus=campus, name="李四", phone="13912345678")
    await session.commit()
    assert await ff.current(session, "Patient", p.id) is None  # not yet: the outbox delivers it
    await drain()
    found = ff.valid(await ff.current(session, "Patient", p.id))
    assert found["identifier"] == [
        {
            "use": "usual",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": "urn:zhiyi:mrn",
            "value": p.mrn,
        },
        {"use": "secondary", "system": "urn:zhiyi:resident-id-hash", "value": p.id_number_hash},
    ]
    assert found["name"] == [{"use": "official", "text": "李四"}]
    assert found["gender"] == "male"
    assert found["telecom"] == [{"system": "phone", "value": "*******5678", "use": "mobile"}]
    assert found["managingOrganization"] == {"reference": f"Organization/{campus.id}"}
    assert "birthDate" not in found  # never beside the masked ID number (docs/architecture.md)
    text = str(found)
    assert pf.security_id(p) not in text and p.birth_date.strftime("%Y%m%d") not in text
    assert found["meta"]["source"] == "urn:zhiyi:patients"


async def test_a_changed_record_is_a_new_version_and_an_unchanged_one_is_not(session, campus, drain):
    p = await pf.patient(session, campus=campus, phone="13912345678")
    await session.commit()
    await drain()
    assert await ff.version(session, "Patient", p.id) == "1"
    await patients.update_patient(session, patient_id=p.id, changes={"phone": "13800001111"})
    await session.commit()
    await drain()
    found = await ff.current(session, "Patient", p.id)
    assert found["meta"]["versionId"] == "2" and found["telecom"][0]["value"] == "*******1111"
    await patients.update_patient(session, patient_id=p.id, changes={"address": "上海市"})  # not mapped
    await session.commit()
    await drain()
    await fhir.project_patient(session, p.id)
    assert await ff.version(session, "Patient", p.id) == "2"


async def test_a_family_proxy_is_a_related_person_while_the_link_is_active(session, campus, drain):
    me = await pf.patient(session, campus=campus, name="王小明")
    mother = await pf.patient(session, campus=campus, name="王妈妈", age=70, male=False)
    link = await pf.family_link(session, proxy=me, dependent=mother, relationship="parent")
    link.status = "pending"
    await session.flush()
    await patients.approve_proxy(session, dependent_patient_id=mother.id, link_id=link.id)
    await session.commit()
    await drain()
    related = ff.valid(await ff.current(session, "RelatedPerson", link.id))
    assert related["patient"] == {"reference": f"Patient/{mother.id}"}  # whom the proxy acts for
    assert related["relationship"][0]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "CHILD", "display": "child"}
    ]  # the link says the dependent is the proxy's parent: the proxy is her child
    assert related["name"] == [{"use": "official", "text": "王小明"}]
    assert related["identifier"][0]["value"] == me.mrn

    await patients.revoke_proxy(session, patient_id=mother.id, link_id=link.id)
    await session.commit()
    await drain()
    assert await ff.current(session, "RelatedPerson", link.id) is None
    assert await fhir.project_all(session) == 0  # everything else already as the rows say


async def test_a_fhir_client_cannot_change_a_patient(client, session, campus, drain, admin_headers):
    p = await pf.patient(session, campus=campus)
    await session.commit()
    await drain()
    before = await ff.current(session, "Patient", p.id)
    changed = {k: v for k, v in before.items() if k != "meta"} | {"gender": "female"}
    r = await client.put(f"/fhir/Patient/{p.id}", headers=admin_headers, json=changed)
    assert r.status_code == 422, r.text
    assert r.json()["issue"][0]["code"] == "business-rule"
    assert (await client.get(f"/fhir/Patient/{p.id}", headers=admin_headers)).json() == before


async def test_a_patient_reads_their_own_patient_and_no_one_else(client, session, drain, patient_caller):
    mine, me = await patient_caller("fhir-pat-a")
    _, other = await patient_caller("fhir-pat-b")
    await drain()
    r = await client.get(f"/fhir/Patient/{me}", headers=mine)
    assert r.status_code == 200 and r.json()["id"] == me
    assert (await client.get(f"/fhir/Patient/{other}", headers=mine)).status_code == 404
