"""Patients service: registration rules, family proxy rules, events."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core import outbox
from zhiyi.core.outbox import OutboxEvent
from zhiyi.core.policy import Actor
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


@pytest.fixture
def heard():
    """Events of PATIENT_REGISTERED delivered to a handler of this test's, unregistered after it (a handler
    left behind would be called by every later test's worker)."""
    delivered = []

    async def remember(_session, event):
        delivered.append(event.payload["patient_id"])

    outbox.handles(events.PATIENT_REGISTERED)(remember)
    yield delivered
    outbox.unregister(events.PATIENT_REGISTERED, remember)


async def test_registration_publishes_an_event_delivered_by_the_worker(session, campus, heard):
    delivered = heard
    p = await patients.register_patient(session, name="张三", id_number=pf.id_number(), campus_id=campus.id)
    await session.flush()
    topics = (await session.scalars(select(OutboxEvent.topic))).all()
    assert events.PATIENT_REGISTERED in topics
    await session.commit()
    await outbox.deliver_pending(session)
    assert str(p.id) in delivered


def actor_for(patient) -> Actor:
    return Actor(account_id=uuid.uuid4(), roles=frozenset({"patient"}), patient_id=patient.id)


async def link(session, me, *, name: str, id_number: str, relationship: str = "other"):
    return await patients.add_dependent(
        session,
        actor=actor_for(me),
        proxy_patient_id=me.id,
        name=name,
        id_number=id_number,
        relationship=relationship,
        channel="sandbox",
    )


async def test_new_child_is_registered_and_linked_on_guardian_attestation(session, campus):
    parent = await pf.patient(session, campus=campus, age=35)
    new = await link(session, parent, name="张小宝", id_number=pf.id_number(age=5), relationship="child")
    assert new.status == "active" and new.consent_method == "guardian"
    assert await patients.is_proxy_of(
        session, proxy_patient_id=parent.id, dependent_patient_id=new.dependent_patient_id
    )


async def test_minor_cannot_be_a_guardian(session, campus):
    teen = await pf.patient(session, campus=campus, age=15)
    with pytest.raises(ProxyRuleViolated):
        await link(session, teen, name="张小宝", id_number=pf.id_number(age=2))


async def test_an_already_registered_child_is_linked_only_at_a_desk(session, campus):
    other_parent = await pf.patient(session, campus=campus, age=35)
    child = await link(
        session, other_parent, name="李宝", id_number=(number := pf.id_number(age=6)), relationship="child"
    )
    stranger = await pf.patient(session, campus=campus, age=40)
    with pytest.raises(ProxyRuleViolated, match="registration desk"):
        await link(session, stranger, name="李宝", id_number=number, relationship="child")
    assert not await patients.is_proxy_of(
        session, proxy_patient_id=stranger.id, dependent_patient_id=child.dependent_patient_id
    )


async def test_adult_consents_with_a_code_sent_to_the_phone_on_their_record(session, campus, sandbox, drain):
    me = await pf.patient(session, campus=campus, age=40, phone="13900009999")
    unknown_adult = pf.id_number(age=70)
    with pytest.raises(ProxyRuleViolated, match="cannot link this adult online"):
        await link(session, me, name="王奶奶", id_number=unknown_adult)
    no_phone = await patients.register_patient(
        session, name="王奶奶", id_number=pf.id_number(age=80, male=False), campus_id=campus.id
    )
    with pytest.raises(ProxyRuleViolated, match="registration desk"):
        await link(session, me, name="王奶奶", id_number=pf.security_id(no_phone))
    elder = await pf.patient(session, campus=campus, name="赵爷爷", age=82, phone="13600000000")
    with pytest.raises(ProxyRuleViolated, match="registration desk"):  # wrong name: same answer as no phone
        await link(session, me, name="李爷爷", id_number=pf.security_id(elder))
    pending = await link(
        session, me, name="赵爷爷", id_number=pf.security_id(elder), relationship="grandparent"
    )
    assert pending.status == "pending"
    await session.commit()
    await drain()
    assert sandbox.last_to("13600000000") is not None and sandbox.last_to("13900009999") is None


async def test_self_link_is_refused_and_revoke_ends_access(session, campus):
    me = await pf.patient(session, campus=campus, age=40)
    with pytest.raises(ProxyRuleViolated):
        await link(session, me, name=me.name, id_number=pf.security_id(me))
    new = await link(session, me, name="张小宝", id_number=pf.id_number(age=4), relationship="child")
    await patients.revoke_proxy(session, patient_id=me.id, link_id=new.id)
    assert not await patients.is_proxy_of(
        session, proxy_patient_id=me.id, dependent_patient_id=new.dependent_patient_id
    )
