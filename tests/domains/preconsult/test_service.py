"""The service on both databases: department lineage, the doctor's summaries (only their session's
patients, only for the session's doctor, each read audited), one draft per form."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from tests.domains.preconsult.test_api import make_world
from tests.factories import org as orgf
from tests.factories import preconsult as qf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.audit import AuditEvent
from zhiyi.domains import registry
from zhiyi.domains.org.schemas import DepartmentNode
from zhiyi.domains.patients import service as patients
from zhiyi.domains.preconsult import service
from zhiyi.domains.preconsult.errors import UnknownDepartment


@pytest.fixture
async def world(session):
    registry.install_policies()  # no app in these tests: the rules are installed as the app would
    return await make_world(session)


def node(code: str, *children: DepartmentNode) -> DepartmentNode:
    return DepartmentNode(
        id=uuid.uuid4(), code=code, name_zh=code, name_en=code, aliases=[], children=list(children)
    )


def test_department_chain_and_lineage():
    deps = service.Departments([node("IM", node("IM.CARD"), node("IM.RESP")), node("DERM")])
    assert deps.chain("IM.CARD") == ["IM.CARD", "IM"]
    assert deps.lineage("IM.CARD") == {"IM.CARD", "IM"}
    assert deps.lineage("IM") == {"IM", "IM.CARD", "IM.RESP"}
    with pytest.raises(UnknownDepartment):
        deps.chain("NOPE")


async def test_the_doctor_gets_summaries_of_their_own_sessions_patients_only(session, world):
    await qf.submitted(session, actor=world.actors["woman"], booking_id=world.b["woman"].id)
    # the man has a form too, but his booking is in another clinic the page cannot smuggle in
    elsewhere, slots = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=await orgf.department(session, code="IM.X"),
        campus=world.main,
        starts_in=dt.timedelta(days=2),
    )
    other_booking = await sf.booking(
        session, cs=elsewhere, slot=slots[0], patient=world.man, account=world.acct["man"], status="booked"
    )
    pairs = [
        (world.b["woman"].id, world.woman.id),
        (other_booking.id, world.man.id),
        (world.b["man"].id, world.man.id),
    ]
    found = await service.pre_visit_summaries(
        session, actor=world.actors["doc"], session_id=world.cs.id, bookings=pairs, locale="en"
    )
    assert set(found) == {world.b["woman"].id}
    s = found[world.b["woman"].id]
    assert s.chief_complaint[0].answer == "胸闷三天" and [e.link_id for e in s.red_flags] == [
        "rf-card-rest-pain"
    ]
    for who in ("other_doc", "nurse", "woman"):
        assert (
            await service.pre_visit_summaries(
                session, actor=world.actors[who], session_id=world.cs.id, bookings=pairs, locale="en"
            )
            == {}
        )
    reads = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "preconsult.read", AuditEvent.patient_id == world.woman.id)
    )
    assert reads == 1


async def test_saving_twice_keeps_one_draft_and_submitting_clears_it(session, world):
    target = await service.target_for_booking(
        session, actor=world.actors["woman"], booking_id=world.b["woman"].id
    )
    first = await service.save_answers(
        session, actor=world.actors["woman"], target=target, answers={"cc-text": ["a"]}, complete=False
    )
    again = await service.save_answers(
        session, actor=world.actors["woman"], target=target, answers={"cc-text": ["b"]}, complete=False
    )
    assert first.id == again.id and again.draft_key == target.draft_key
    state = await service.open_form(session, target=target)
    assert state.answers["cc-text"] == ["b"] and state.answers["patient-age"] == [
        patients.age_on(world.woman.birth_date, clock.today())
    ]
