"""Triage through the API, on both databases: assessments stored and audited, doctors with free
times, the emergency instruction and its review, questions, feedback, reassignment and retraining
outcomes, hand-overs to the service desk, who may see what, and bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core.audit import AuditEvent
from zhiyi.domains.identity.models import Account
from zhiyi.domains.triage import service
from zhiyi.domains.triage.models import TriageAssessment, TriageHandover

A = "/api/v1/triage"


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    im = await orgf.department(session, code="IM")
    depts = {"IM": im}
    for code, parent in (("IM.NEUR", im), ("IM.CARD", im), ("IM.RESP", im), ("IM.GAST", im)):
        depts[code] = await orgf.department(session, code=code, parent=parent)
    ped = await orgf.department(session, code="PED")
    depts["PED"] = ped
    for code in ("PED.GEN", "PED.RESP"):
        depts[code] = await orgf.department(session, code=code, parent=ped)
    for code in ("STOM", "EM", "GP", "INF", "ENT"):
        depts[code] = await orgf.department(session, code=code)
    doctors = {}
    for code in ("STOM", "IM.NEUR", "PED.GEN"):
        doc = await orgf.practitioner(session, department=depts[code], campuses=[main])
        await sf.session_with_slots(
            session,
            practitioner=doc,
            department=depts[code],
            campus=main,
            starts_in=dt.timedelta(days=1),
            slots=3,
        )
        doctors[code] = doc
    me = await pf.patient(session, campus=main, name="分诊", age=40)
    child = await pf.patient(session, campus=main, name="小孩", age=5)
    other = await pf.patient(session, campus=main, name="别人", age=40)
    await pf.family_link(session, proxy=me, dependent=child)
    acct = await accounts.account(session, username="tp", roles={"patient"}, patient=me)
    other_acct = await accounts.account(session, username="to", roles={"patient"}, patient=other)
    nurse = await accounts.account(session, username="tn", roles={"nurse"}, campuses=[main])
    doctor = await accounts.account(
        session, username="td", roles={"doctor"}, campuses=[main], practitioner=doctors["IM.NEUR"]
    )
    await session.commit()
    return SimpleNamespace(
        main=main,
        depts=depts,
        doctors=doctors,
        me=me,
        child=child,
        other=other,
        h=await accounts.bearer(session, acct),
        other_h=await accounts.bearer(session, other_acct),
        nurse=await accounts.bearer(session, nurse),
        doctor=await accounts.bearer(session, doctor),
    )


async def count(session, model) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)))


async def test_a_complaint_gets_departments_with_doctors_and_is_stored_and_audited(client, world, session):
    r = await client.post(f"{A}/assessments", headers=world.h, json={"text": "牙疼了三天，晚上疼得睡不着"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "departments"
    first = body["departments"][0]
    assert first["code"] == "STOM" and first["reasons"]
    assert first["doctors"] and first["doctors"][0]["practitioner_id"] == str(world.doctors["STOM"].id)
    row = await session.get(TriageAssessment, uuid.UUID(body["id"]))
    assert row.patient_id == world.me.id and row.text.startswith("牙疼")
    audited = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.patient_id == world.me.id, AuditEvent.resource_type == "patient")
    )
    assert audited >= 1


async def test_a_child_of_the_family_goes_to_pediatrics(client, world):
    r = await client.post(
        f"{A}/assessments", headers=world.h, json={"text": "咳嗽发烧两天", "patient_id": str(world.child.id)}
    )
    assert r.status_code == 201, r.text
    assert r.json()["departments"][0]["code"].startswith("PED")
    assert r.json()["rules"]


async def test_stroke_gets_the_emergency_instruction_and_waits_for_review(client, world, session):
    r = await client.post(f"{A}/assessments", headers=world.h, json={"text": "我妈突然嘴歪了，说话不清楚"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "emergency" and body["departments"] == [] and body["red_flags"]
    assert "120" in body["message"]
    assert (await client.get(f"{A}/emergencies", headers=world.h)).status_code == 403
    listed = await client.get(f"{A}/emergencies", headers=world.nurse)
    assert [e["id"] for e in listed.json()] == [body["id"]]
    assert (
        await client.post(f"{A}/emergencies/{body['id']}/reviewed", headers=world.nurse)
    ).status_code == 204
    assert (await client.get(f"{A}/emergencies", headers=world.nurse)).json() == []


async def test_english_complaints_are_answered_in_english(client, world):
    r = await client.post(
        f"{A}/assessments", headers=world.h, json={"text": "terrible toothache, my gum is swollen"}
    )
    body = r.json()
    assert body["language"] == "en" and body["departments"][0]["code"] == "STOM"
    assert all(ch.isascii() for ch in body["message"])


async def test_only_the_asker_reads_an_assessment_and_only_for_own_family(client, world):
    r = await client.post(f"{A}/assessments", headers=world.h, json={"text": "头痛"})
    aid = r.json()["id"]
    assert (await client.get(f"{A}/assessments/{aid}", headers=world.h)).status_code == 200
    assert (await client.get(f"{A}/assessments/{aid}", headers=world.other_h)).status_code == 404
    stranger = await client.post(
        f"{A}/assessments", headers=world.h, json={"text": "头痛", "patient_id": str(world.other.id)}
    )
    assert stranger.status_code == 403


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "头" * 10_000},
        {"text": "头痛", "age": -1},
        {"text": "头痛", "sex": "X"},
        {"text": "头痛", "body_part": "tail"},
        {"text": "头痛", "answers": {"mood": "bad"}},
        {"text": 12},
        {"text": "头痛", "extra": 1},
    ],
)
async def test_bad_input_is_refused_and_stores_nothing(client, world, session, payload):
    r = await client.post(f"{A}/assessments", headers=world.h, json=payload)
    assert r.status_code == 422, r.text
    assert r.json()["code"]
    assert await count(session, TriageAssessment) == 0


@pytest.mark.parametrize(
    "text", ["😀😀🤒", "头痛<script>alert(1)</script>", "最近headache很厉害, 还有点 fever"]
)
async def test_odd_input_gets_a_clear_answer(client, world, text):
    r = await client.post(f"{A}/assessments", headers=world.h, json={"text": text})
    assert r.status_code == 201, r.text
    assert r.json()["message"]


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "asdfghjkl", "qwerty uiop"])
async def test_text_with_no_word_we_know_is_asked_again_not_guessed(client, world, session, text):
    r = await client.post(
        f"{A}/assessments", headers={**world.h, "accept-language": "en"}, json={"text": text}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "not_understood", r.text
    assert "Describe your symptoms" in r.json()["errors"][0]["message"]
    assert await count(session, TriageAssessment) == 0


async def test_feedback_and_reassignment_become_training_outcomes(client, world, session):
    # the patient is booked with the neurologist next week: a care relationship (patients/policy.py)
    cs, slots = await sf.session_with_slots(
        session,
        practitioner=world.doctors["IM.NEUR"],
        department=world.depts["IM.NEUR"],
        campus=world.main,
        starts_in=dt.timedelta(days=7),
        slots=1,
    )
    acct = await session.scalar(select(Account).where(Account.username == "tp"))
    await sf.booking(session, cs=cs, slot=slots[0], patient=world.me, account=acct, status="booked")
    await session.commit()
    a = (await client.post(f"{A}/assessments", headers=world.h, json={"text": "牙龈肿痛"})).json()
    b = (await client.post(f"{A}/assessments", headers=world.h, json={"text": "头晕，走路不稳"})).json()
    assert (
        await client.post(f"{A}/assessments/{a['id']}/feedback", headers=world.h, json={"helped": True})
    ).status_code == 204
    assert (
        await client.post(
            f"{A}/assessments/{a['id']}/feedback", headers=world.other_h, json={"helped": False}
        )
    ).status_code == 404
    assert (
        await client.post(
            f"{A}/assessments/{b['id']}/reassign", headers=world.h, json={"department_code": "ENT"}
        )
    ).status_code == 403
    assert (
        await client.post(
            f"{A}/assessments/{b['id']}/reassign", headers=world.doctor, json={"department_code": "NOPE"}
        )
    ).status_code == 422
    assert (
        await client.post(
            f"{A}/assessments/{b['id']}/reassign", headers=world.doctor, json={"department_code": "ENT"}
        )
    ).status_code == 204
    outcomes = await service.training_outcomes(session)
    assert {(o.text, o.department) for o in outcomes} == {
        ("牙龈肿痛", a["departments"][0]["code"]),
        ("头晕，走路不稳", "ENT"),
    }


async def test_handover_to_the_service_desk(client, world, session):
    a = (await client.post(f"{A}/assessments", headers=world.h, json={"text": "不舒服"})).json()
    r = await client.post(
        f"{A}/handovers", headers=world.h, json={"assessment_id": a["id"], "text": "能帮我看看挂什么科吗"}
    )
    assert r.status_code == 201, r.text
    hid = r.json()["id"]
    again = await client.post(f"{A}/handovers", headers=world.h, json={"text": "还在吗"})
    assert again.json()["id"] == hid  # one open request per account
    assert (await client.get(f"{A}/desk/handovers", headers=world.h)).status_code == 403
    queue = (await client.get(f"{A}/desk/handovers", headers=world.nurse)).json()
    assert [h["id"] for h in queue] == [hid] and queue[0]["complaint"] == "不舒服"
    assert (await client.post(f"{A}/desk/handovers/{hid}/take", headers=world.nurse)).json()[
        "status"
    ] == "taken"
    said = await client.post(
        f"{A}/handovers/{hid}/messages", headers=world.nurse, json={"text": "请挂消化内科"}
    )
    assert said.status_code == 200 and said.json()["messages"][-1]["sender"] == "agent"
    seen = (await client.get(f"{A}/handovers/{hid}", headers=world.h)).json()
    assert [m["sender"] for m in seen["messages"]] == ["patient", "agent"]
    assert (await client.get(f"{A}/handovers/{hid}", headers=world.other_h)).status_code == 404
    closed = await client.post(
        f"{A}/desk/handovers/{hid}/close", headers=world.nurse, json={"department_code": "IM.GAST"}
    )
    assert closed.json()["status"] == "closed"
    assert (
        await client.post(f"{A}/handovers/{hid}/messages", headers=world.h, json={"text": "谢谢"})
    ).status_code == 409
    row = await session.get(TriageAssessment, uuid.UUID(a["id"]))
    await session.refresh(row)
    assert row.reassigned_code == "IM.GAST"
    assert await count(session, TriageHandover) == 1


async def test_body_map_lists_regions_with_common_complaints(client, world):
    r = await client.get(f"{A}/body-map")
    regions = {x["id"]: x for x in r.json()}
    assert {"head", "chest", "lower_back"} <= set(regions)
    assert regions["chest"]["complaints"]
    tapped = await client.post(
        f"{A}/assessments",
        headers=world.h,
        json={"text": regions["mouth_teeth"]["complaints"][0]["name_zh"], "body_part": "mouth_teeth"},
    )
    assert tapped.json()["departments"][0]["code"] == "STOM"


@pytest.mark.parametrize("text", ["\x00头痛", "头痛\ud800"])
async def test_control_characters_are_a_422_and_store_nothing(client, world, session, text):
    # PostgreSQL cannot store NUL in text: this used to be a 500 there
    escaped = text.encode("unicode_escape").decode().replace("\\x00", "\\u0000")
    body = ('{"text": "' + escaped + '"}').encode()
    r = await client.post(
        f"{A}/assessments", headers={**world.h, "content-type": "application/json"}, content=body
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "text", r.text
    r = await client.post(f"{A}/handovers", headers=world.h, json={"text": "\x00help"})
    assert r.status_code == 422
    assert await count(session, TriageAssessment) == 0 and await count(session, TriageHandover) == 0


async def test_closing_a_closed_conversation_again_changes_nothing(client, world, session):
    a = (await client.post(f"{A}/assessments", headers=world.h, json={"text": "不舒服"})).json()
    hid = (await client.post(f"{A}/handovers", headers=world.h, json={"assessment_id": a["id"]})).json()["id"]
    await client.post(f"{A}/desk/handovers/{hid}/take", headers=world.nurse)
    first = await client.post(
        f"{A}/desk/handovers/{hid}/close", headers=world.nurse, json={"department_code": "IM.GAST"}
    )
    assert first.status_code == 200
    again = await client.post(
        f"{A}/desk/handovers/{hid}/close", headers=world.nurse, json={"department_code": "ENT"}
    )
    assert again.status_code == 409 and again.json()["code"] == "handover_closed"
    row = await session.get(TriageHandover, uuid.UUID(hid))
    await session.refresh(row)
    assert row.department_code == "IM.GAST"


async def test_each_campus_reviews_and_answers_its_own_patients(client, world, session):
    east = await orgf.campus(session, code="EAST")
    east_nurse = await accounts.account(session, username="ten", roles={"nurse"}, campuses=[east])
    await session.commit()
    east_h = await accounts.bearer(session, east_nurse)
    flagged = (await client.post(f"{A}/assessments", headers=world.h, json={"text": "我想自杀"})).json()
    # the patient is registered at MAIN
    assert (await client.get(f"{A}/emergencies", headers=east_h)).json() == []
    assert (await client.post(f"{A}/emergencies/{flagged['id']}/reviewed", headers=east_h)).status_code == 404
    assert [e["id"] for e in (await client.get(f"{A}/emergencies", headers=world.nurse)).json()] == [
        flagged["id"]
    ]
    asked = (await client.post(f"{A}/handovers", headers=world.h, json={"text": "挂什么科"})).json()
    assert (await client.get(f"{A}/desk/handovers", headers=east_h)).json() == []
    assert (await client.post(f"{A}/desk/handovers/{asked['id']}/take", headers=east_h)).status_code == 403
    # nobody has taken it: answering or closing first is refused with a reason
    closed = await client.post(f"{A}/desk/handovers/{asked['id']}/close", headers=world.nurse, json={})
    assert closed.status_code == 409 and closed.json()["code"] == "handover_not_taken"


async def test_requests_for_a_person_at_the_same_moment_open_one(live_app):
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        p = await pf.patient(s, campus=campus, name="同时")
        acct = await accounts.account(s, username="twice", roles={"patient"}, patient=p)
        headers = await accounts.bearer(s, acct)
        await s.commit()
    results = await asyncio.gather(
        *[
            live_app.client.post(f"{A}/handovers", headers=headers, json={"text": f"在吗{i}"})
            for i in range(6)
        ]
    )
    assert {r.status_code for r in results} == {201}, [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    async with live_app.db.sessionmaker() as s:
        assert await count(s, TriageHandover) == 1


async def test_reading_my_request_to_the_desk_is_audited(client, world, session):
    """Issue 15, item 9: the chat holds what the patient told the desk; reading it is a read of their data."""
    hid = (
        await client.post(f"{A}/handovers", headers=world.h, json={"text": "能帮我看看挂什么科吗"})
    ).json()["id"]
    before = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.resource_id == hid, AuditEvent.action == "read")
    )
    assert (await client.get(f"{A}/handovers/{hid}", headers=world.h)).status_code == 200
    rows = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.resource_id == hid, AuditEvent.action == "read")
        )
    ).all()
    assert len(rows) == before + 1 and rows[-1].patient_id == world.me.id and rows[-1].outcome == "allowed"


@pytest.mark.parametrize(
    "raw",
    [
        '{"text": "头痛", "answers": {"fever": "ye\\u0000s"}}',  # NUL in an answer
        '{"text": "头痛", "answers": {"fever": "yes\\ud800"}}',  # a lone surrogate in an answer
        '{"text": "头痛\\u202e发热"}',  # a right-to-left override, which reorders what the desk reads
        '{"text": "头痛", "answers": {"fe\\u202ever": "yes"}}',
    ],
)
async def test_answers_and_text_refuse_nul_surrogates_and_bidi_controls(client, world, session, raw):
    """Issue 15, item 8: one shared free-text type (core.fields.FreeText) for every free-text field."""
    r = await client.post(
        f"{A}/assessments", headers={**world.h, "content-type": "application/json"}, content=raw.encode()
    )
    assert r.status_code in (400, 422) and r.json()["code"], r.text
    assert await count(session, TriageAssessment) == 0


async def test_chat_messages_refuse_bidi_controls(client, world, session):
    hid = (await client.post(f"{A}/handovers", headers=world.h, json={"text": "在吗"})).json()["id"]
    r = await client.post(f"{A}/handovers/{hid}/messages", headers=world.h, json={"text": "请看\u202e药名"})
    assert r.status_code == 422
    r = await client.post(f"{A}/handovers", headers=world.h, json={"text": "帮我\u2067看看"})
    assert r.status_code == 422  # refused for its text (before the rule of one open request per account)
