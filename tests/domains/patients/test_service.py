"""Patients service: registration rules, family proxy rules, events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core import outbox
from zhiyi.core.outbox import OutboxEvent
from zhiyi.domains.patients import events
from zhiyi.domains.patients import service as patients
from zhiyi.domains.patients.errors import PatientAlreadyRegistered, ProxyRuleViolated


@pytest.fixture
async def campus(session):
    return await orgf.campus(session, code="MAIN", is_main=True)


async def test_same_resident_id_cannot_register_twice(session, campus):
    number = pf.id_number(age=30)
    await patients.register_patient(session, name="张三", id_number=number, campus_id=campus.id)
    with pytest.raises(PatientAlreadyRegistered):
        await patients.register_patient(session, name="张三", id_number=number.lower(), campus_id=campus.id)


async def test_registration_publishes_an_event_delivered_by_the_worker(session, campus):
    delivered = []

    @outbox.handles(events.PATIENT_REGISTERED)
    async def remember(_session, event):
        delivered.append(event.payload["patient_id"])

    p = await patients.register_patient(session, name="张三", id_number=pf.id_number(), campus_id=campus.id)
    await session.flush()
    topics = (await session.scalars(select(OutboxEvent.topic))).all()
    assert events.PATIENT_REGISTERED in topics
    await session.commit()
    await outbox.deliver_pending(session)
    assert str(p.id) in delivered


async def test_child_is_linked_on_guardian_attestation(session, campus):
    parent = await pf.patient(session, campus=campus, age=35)
    link = await patients.add_dependent(session, proxy_patient_id=parent.id, name="张小宝",
                                        id_number=pf.id_number(age=5), relationship="child",
                                        requested_by_account_id=None, channel="sandbox")
    assert link.status == "active" and link.consent_method == "guardian"
    assert await patients.is_proxy_of(session, proxy_patient_id=parent.id, dependent_patient_id=link.dependent_patient_id)


async def test_minor_cannot_be_a_guardian(session, campus):
    teen = await pf.patient(session, campus=campus, age=15)
    with pytest.raises(ProxyRuleViolated):
        await patients.add_dependent(session, proxy_patient_id=teen.id, name="张小宝", id_number=pf.id_number(age=2),
                                     relationship="other", requested_by_account_id=None, channel="sandbox")


async def test_adult_needs_a_phone_and_name_must_match(session, campus, sandbox):
    me = await pf.patient(session, campus=campus, age=40)
    elder = await patients.register_patient(session, name="王奶奶", id_number=pf.id_number(age=80, male=False),
                                            campus_id=campus.id)  # no phone on file
    number = patients.security.unseal(patients.get_settings().secret_key, "resident-id", elder.id_number_sealed)
    with pytest.raises(ProxyRuleViolated):
        await patients.add_dependent(session, proxy_patient_id=me.id, name="王奶奶", id_number=number,
                                     relationship="grandparent", requested_by_account_id=None, channel="sandbox")
    with pytest.raises(ProxyRuleViolated):
        await patients.add_dependent(session, proxy_patient_id=me.id, name="李奶奶", id_number=number,
                                     relationship="grandparent", requested_by_account_id=None, channel="sandbox",
                                     phone="13600000000")
    link = await patients.add_dependent(session, proxy_patient_id=me.id, name="王奶奶", id_number=number,
                                        relationship="grandparent", requested_by_account_id=None, channel="sandbox",
                                        phone="13600000000")
    assert link.status == "pending" and sandbox.last_to("13600000000") is not None


async def test_self_link_is_refused_and_revoke_ends_access(session, campus):
    me = await pf.patient(session, campus=campus, age=40)
    number = patients.security.unseal(patients.get_settings().secret_key, "resident-id", me.id_number_sealed)
    with pytest.raises(ProxyRuleViolated):
        await patients.add_dependent(session, proxy_patient_id=me.id, name=me.name, id_number=number,
                                     relationship="other", requested_by_account_id=None, channel="sandbox")
    link = await patients.add_dependent(session, proxy_patient_id=me.id, name="张小宝", id_number=pf.id_number(age=4),
                                        relationship="child", requested_by_account_id=None, channel="sandbox")
    await patients.revoke_proxy(session, patient_id=me.id, link_id=link.id)
    assert not await patients.is_proxy_of(session, proxy_patient_id=me.id, dependent_patient_id=link.dependent_patient_id)
