"""Pre-consultation through the API, on both databases: questionnaires by department and booking,
saving and coming back, submitting, skip logic re-checked by the server, who may read the summary,
and bad input that changes nothing."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import preconsult as qf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.audit import AuditEvent
from zhiyi.core.outbox import OutboxEvent
from zhiyi.domains.identity import service as identity
from zhiyi.domains.patients import service as patients
from zhiyi.domains.preconsult.models import PreconsultResponse

P = "/api/v1/preconsult"
CARD = "https://zhiyi.example/fhir/Questionnaire/preconsult-im-card"


@pytest.fixture
async def world(session):
    return await make_world(session)


async def make_world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    im = await orgf.department(session, code="IM")
    card = await orgf.department(session, code="IM.CARD", parent=im)
    ped = await orgf.department(session, code="PED")
    await orgf.department(session, code="PED.GEN", parent=ped)
    await orgf.department(session, code="DERM")
    doc = await orgf.practitioner(session, department=card, campuses=[main])
    other_doc = await orgf.practitioner(session, department=card, campuses=[main])
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=card, campus=main, starts_in=dt.timedelta(minutes=20), slots=4
    )
    woman = await pf.patient(session, campus=main, name="王芳", age=30, male=False, phone="13900001001")
    man = await pf.patient(session, campus=main, name="李强", age=45, phone="13900001002")
    parent = await pf.patient(session, campus=main, name="王父", age=80, phone="13900001003")
    stranger = await pf.patient(session, campus=main, name="赵六", age=50, phone="13900001004")
    await pf.family_link(session, proxy=woman, dependent=parent)
    acct = {}
    for name, p in (("woman", woman), ("man", man), ("parent", parent), ("stranger", stranger)):
        acct[name] = await accounts.account(session, username=f"pc-{name}", roles={"patient"}, patient=p)
    acct["doc"] = await accounts.account(
        session, username="pc-doc", roles={"doctor"}, campuses=[main], practitioner=doc
    )
    acct["other_doc"] = await accounts.account(
        session, username="pc-doc2", roles={"doctor"}, campuses=[main], practitioner=other_doc
    )
    acct["nurse"] = await accounts.account(session, username="pc-nurse", roles={"nurse"}, campuses=[main])
    acct["desk"] = await accounts.account(session, username="pc-desk", roles={"registrar"}, campuses=[main])
    bookings = {
        "woman": await sf.booking(
            session, cs=cs, slot=slots[0], patient=woman, account=acct["woman"], status="booked"
        ),
        "man": await sf.booking(
            session, cs=cs, slot=slots[1], patient=man, account=acct["man"], status="booked"
        ),
        "parent": await sf.booking(
            session, cs=cs, slot=slots[2], patient=parent, account=acct["woman"], status="booked"
        ),
    }
    heads = {k: await accounts.bearer(session, a) for k, a in acct.items()}
    actors = {k: await identity.actor_for(session, a) for k, a in acct.items()}
    await session.commit()
    return SimpleNamespace(
        main=main,
        cs=cs,
        slots=slots,
        doc=doc,
        woman=woman,
        man=man,
        parent=parent,
        stranger=stranger,
        b=bookings,
        h=heads,
        actors=actors,
        acct=acct,
    )


async def stored(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(PreconsultResponse)))


async def only_row(session) -> PreconsultResponse:
    return (await session.scalars(select(PreconsultResponse))).one()


def linkids(resource: dict) -> set[str]:
    out = set()

    def walk(items):
        for i in items:
            out.add(i["linkId"])
            walk(i.get("item", []))

    walk(resource.get("item", []))
    return out


def answer_of(resource: dict, link_id: str) -> list | None:
    def walk(items):
        for i in items:
            if i["linkId"] == link_id:
                return i.get("answer")
            found = walk(i.get("item", []))
            if found is not None:
                return found
        return None

    return walk(resource.get("item", []))


async def put_booking(client, world, who: str, body, booking: str | None = None):
    return await client.put(
        f"{P}/bookings/{world.b[booking or who].id}/response", headers=world.h[who], json=body
    )


# --- questionnaires ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("IM.CARD", "preconsult-im-card"),
        ("PED.GEN", "preconsult-ped"),
        ("PED", "preconsult-ped"),
        ("DERM", "preconsult-derm"),
        ("IM", "preconsult-general"),
    ],
)
async def test_a_department_gets_its_own_its_groups_or_the_general_questionnaire(
    client, world, code, expected
):
    r = await client.get(f"{P}/departments/{code}/questionnaire", headers=world.h["man"])
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["resourceType"] == "Questionnaire" and q["url"].endswith(expected) and q["status"] == "active"


async def test_unknown_or_malformed_department_codes_are_refused(client, world):
    r = await client.get(f"{P}/departments/NOPE/questionnaire", headers=world.h["man"])
    assert r.status_code == 404 and r.json()["code"] == "unknown_department"
    assert (
        await client.get(f"{P}/departments/%3Cscript%3E/questionnaire", headers=world.h["man"])
    ).status_code == 422
    assert (await client.get(f"{P}/departments/IM.CARD/questionnaire")).status_code == 401


async def test_the_questionnaire_of_a_booking_is_for_its_patient_and_family_only(client, world, session):
    r = await client.get(f"{P}/bookings/{world.b['woman'].id}/questionnaire", headers=world.h["woman"])
    assert r.status_code == 200 and r.json()["url"] == CARD
    assert (
        await client.get(f"{P}/bookings/{world.b['parent'].id}/questionnaire", headers=world.h["woman"])
    ).status_code == 200
    r = await client.get(f"{P}/bookings/{world.b['woman'].id}/questionnaire", headers=world.h["stranger"])
    assert r.status_code == 403
    denied = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "preconsult.fill",
            AuditEvent.outcome == "denied",
            AuditEvent.patient_id == world.woman.id,
        )
    )
    assert denied == 1
    for who in ("doc", "desk"):  # the doctor reads the summary; filling is the family's
        assert (
            await client.get(f"{P}/bookings/{world.b['woman'].id}/questionnaire", headers=world.h[who])
        ).status_code == 403
    missing = await client.get(
        f"{P}/bookings/00000000-0000-0000-0000-000000000001/questionnaire", headers=world.h["woman"]
    )
    assert missing.status_code == 404 and missing.json()["code"] == "booking_not_found"


# --- saving, coming back, submitting ----------------------------------------------------------------------


async def test_save_come_back_and_submit(client, world, session):
    draft = qf.response({"cc-text": [qf.text("胸闷")]}, status="in-progress", questionnaire=f"{CARD}|1.0.0")
    r = await put_booking(client, world, "woman", draft)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in-progress" and r.json()["completed_at"] is None
    again = await put_booking(
        client, world, "woman", qf.response({"cc-text": [qf.text("胸闷两天")]}, status="in-progress")
    )
    assert again.json()["id"] == r.json()["id"]  # one draft per form
    back = await client.get(f"{P}/bookings/{world.b['woman'].id}/response", headers=world.h["woman"])
    assert back.status_code == 200 and answer_of(back.json()["resource"], "cc-text") == [
        {"valueString": "胸闷两天"}
    ]

    done = await put_booking(client, world, "woman", qf.response(qf.cardiology_answers()))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["id"] == r.json()["id"] and body["status"] == "completed" and body["completed_at"]
    resource = body["resource"]
    assert resource["resourceType"] == "QuestionnaireResponse" and resource["status"] == "completed"
    assert resource["questionnaire"] == f"{CARD}|1.0.0" and resource["subject"] == {
        "reference": f"Patient/{world.woman.id}"
    }
    # filled in by the server
    assert [i["linkId"] for i in resource["item"]][:2] == ["patient-sex", "patient-age"]
    assert {"cc", "cc-text", "allergy", "allergy-substance", "rf-card-rest-pain"} <= linkids(resource)
    row = await only_row(session)
    assert row.draft_key is None and row.red_flags == 1 and row.department_code == "IM.CARD"
    event = (
        await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "preconsult.response_submitted"))
    ).one()
    assert event.payload["response_id"] == str(row.id) and event.payload["red_flags"] == 1

    # a new form after submitting starts a new draft; the submitted one stays as it was
    later = await put_booking(
        client, world, "woman", qf.response({"cc-text": [qf.text("又来")]}, status="in-progress")
    )
    assert later.json()["id"] != row.id and await stored(session) == 2


async def test_the_server_drops_answers_to_disabled_questions_and_fills_hidden_items(client, world, session):
    answers = qf.cardiology_answers(
        **{
            "allergy-any": [qf.yes(False)],  # then the substance and reaction are disabled...
            "card-chest-pain": [qf.yes(False)],  # ...and so is the kind of pain
            "patient-sex": [qf.code("male")],
            "patient-age": [{"valueInteger": 99}],  # the browser cannot set these
            "pmh-pregnant": [qf.code("yes")],  # a man is not asked
        }
    )
    r = await put_booking(client, world, "man", qf.response(answers))
    assert r.status_code == 200, r.text
    ids = linkids(r.json()["resource"])
    assert "allergy-any" in ids and "allergy-substance" not in ids and "allergy-reaction" not in ids
    assert "card-pain-type" not in ids and "pmh-pregnant" not in ids and "pmh-repro" not in ids
    age = next(i for i in r.json()["resource"]["item"] if i["linkId"] == "patient-age")
    assert age["answer"] == [{"valueInteger": patients.age_on(world.man.birth_date, clock.today())}]


async def test_a_woman_of_child_bearing_age_is_asked_about_pregnancy(client, world):
    body = qf.response(
        qf.cardiology_answers(
            **{"pmh-pregnant": [qf.code("unsure")], "pmh-lmp": [{"valueDate": "2026-10-01"}]}
        )
    )
    r = await put_booking(client, world, "woman", body)
    assert r.status_code == 200 and {"pmh-repro", "pmh-pregnant", "pmh-lmp"} <= linkids(r.json()["resource"])
    elderly = await put_booking(client, world, "woman", body, booking="parent")  # her father, 80: not asked
    assert elderly.status_code == 200 and "pmh-pregnant" not in linkids(elderly.json()["resource"])


@pytest.mark.parametrize(
    ("answers", "field", "kind"),
    [
        ({"allergy-any": [{"valueString": "yes"}]}, "allergy-any", "wrong_type"),
        ({"allergy-any": [{"valueBoolean": "true"}]}, "allergy-any", "wrong_type"),
        ({"card-sbp": [{"valueInteger": 1.5}]}, "card-sbp", "wrong_type"),
        ({"card-sbp": [{"valueInteger": True}]}, "card-sbp", "wrong_type"),
        ({"card-sbp": [{"valueInteger": 999_999_999}]}, "card-sbp", "out_of_range"),  # issue 15, item 8
        ({"card-sbp": [{"valueInteger": -5}]}, "card-sbp", "out_of_range"),
        ({"cc-text": [qf.text("胸口\u202e痛")]}, "cc-text", "invalid_text"),  # a right-to-left override
        ({"cc-duration": [qf.code("forever")]}, "cc-duration", "not_an_option"),
        ({"cc-duration": [qf.code("1-3d"), qf.code("gt6m")]}, "cc-duration", "not_repeating"),
        ({"cc-text": [qf.text("痛" * 10_000)]}, "cc-text", "too_long"),
        ({"cc-text": [qf.text("a\x00b")]}, "cc-text", "invalid_text"),
        ({"no-such-question": [qf.yes()]}, "no-such-question", "unknown_item"),
        ({"pmh-lmp": [{"valueDate": "1066-10-14"}]}, "pmh-lmp", "out_of_range"),
        ({"pmh-lmp": [{"valueDate": "yesterday"}]}, "pmh-lmp", "wrong_type"),
        ({"allergy-substance": []}, "allergy-substance", "required"),  # allergic: the substance is needed
    ],
)
async def test_bad_answers_get_a_422_naming_the_question_and_store_nothing(
    client, world, session, answers, field, kind
):
    r = await put_booking(client, world, "woman", qf.response(qf.cardiology_answers(**answers)))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "answers_invalid" and {"field": field, "type": kind} in [
        {"field": e["field"], "type": e["type"]} for e in body["errors"]
    ]
    assert await stored(session) == 0


async def test_a_draft_may_be_incomplete_but_a_submission_may_not(client, world, session):
    partial = qf.response({"cc-text": [qf.text("胸闷")]}, status="in-progress")
    assert (await put_booking(client, world, "woman", partial)).status_code == 200
    r = await put_booking(client, world, "woman", qf.response({"cc-text": [qf.text("胸闷")]}))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"] if e["type"] == "required"} == {
        "cc-duration",
        "meds-any",
        "allergy-any",
    }
    row = await only_row(session)
    assert row.status == "in-progress"  # unchanged by the refused submission


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Patient"},
        {"resourceType": "QuestionnaireResponse", "status": "amended"},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": "nope"},
        {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "questionnaire": "https://zhiyi.example/fhir/Questionnaire/preconsult-derm|1.0.0",
        },
    ],
)
async def test_what_is_not_a_response_for_this_form_is_refused(client, world, session, body):
    r = await put_booking(client, world, "woman", body)
    assert r.status_code == 422 and r.json()["code"] == "answers_invalid" and r.json()["errors"]
    assert await stored(session) == 0


async def test_malformed_json_and_other_peoples_bookings_change_nothing(client, world, session):
    r = await client.put(
        f"{P}/bookings/{world.b['woman'].id}/response",
        content=b'{"resourceType": "Questionn',
        headers={**world.h["woman"], "content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert (
        await put_booking(client, world, "stranger", qf.response(qf.cardiology_answers()), booking="woman")
    ).status_code == 403
    assert (
        await put_booking(client, world, "doc", qf.response(qf.cardiology_answers()), booking="woman")
    ).status_code == 403
    r = await client.put(
        f"{P}/bookings/{world.b['woman'].id}/response", headers=world.h["woman"], json=[1, 2]
    )
    assert r.status_code == 422
    assert await stored(session) == 0


async def test_a_cancelled_booking_has_nothing_to_prepare(client, world, session):
    world.b["man"].status = "cancelled"
    await session.commit()
    r = await put_booking(client, world, "man", qf.response(qf.cardiology_answers()))
    assert r.status_code == 409 and r.json()["code"] == "booking_not_active"


async def test_after_triage_for_a_department_for_oneself_or_a_family_member(client, world, session):
    body = qf.response(
        {
            "cc-text": [qf.text("皮疹一周")],
            "cc-duration": [qf.code("4-7d")],
            "meds-any": [qf.yes(False)],
            "allergy-any": [qf.yes(False)],
            "rf-derm-mucosa": [qf.yes(False)],
        }
    )
    mine = await client.put(f"{P}/departments/DERM/response", headers=world.h["woman"], json=body)
    assert (
        mine.status_code == 200
        and mine.json()["booking_id"] is None
        and mine.json()["department_code"] == "DERM"
    )
    for_dad = await client.put(
        f"{P}/departments/DERM/response?patient_id={world.parent.id}", headers=world.h["woman"], json=body
    )
    assert for_dad.status_code == 200 and for_dad.json()["patient_id"] == str(world.parent.id)
    proxy_audit = await session.scalar(
        select(AuditEvent.on_behalf_of_patient_id).where(
            AuditEvent.action == "preconsult.submit", AuditEvent.patient_id == world.parent.id
        )
    )
    assert proxy_audit == world.parent.id
    r = await client.put(
        f"{P}/departments/DERM/response?patient_id={world.man.id}", headers=world.h["woman"], json=body
    )
    assert r.status_code == 403
    r = await client.put(f"{P}/departments/NOPE/response", headers=world.h["woman"], json=body)
    assert r.status_code == 404
    r = await client.put(f"{P}/departments/DERM/response", headers=world.h["doc"], json=body)
    assert r.status_code == 403  # a doctor has no record of their own to fill here
    assert await stored(session) == 2


# --- the summary and who may read it --------------------------------------------------------------------


async def test_the_summary_for_the_doctor_of_the_session_the_patient_and_family(client, world, session):
    await qf.submitted(session, actor=world.actors["woman"], booking_id=world.b["woman"].id)
    await session.commit()
    url = f"{P}/bookings/{world.b['woman'].id}/summary"
    r = await client.get(url, headers={**world.h["doc"], "accept-language": "en"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["chief_complaint"][0]["answer"] == "胸闷三天" and s["chief_complaint"][1]["answer"] == "1–3 days"
    allergies = {e["link_id"]: e["answer"] for e in s["allergies"]}
    assert allergies == {
        "allergy-any": "Yes",
        "allergy-substance": "青霉素",
        "allergy-reaction": "Rash or itching",
    }
    assert [e["link_id"] for e in s["red_flags"]] == ["rf-card-rest-pain"]
    zh = (await client.get(url, headers={**world.h["woman"], "accept-language": "zh-CN"})).json()
    assert zh["allergies"][0]["answer"] == "是" and zh["allergies"][0]["question"].startswith("对药物")
    for who in ("other_doc", "nurse", "desk", "stranger", "man"):
        assert (await client.get(url, headers=world.h[who])).status_code == 403, who
    reads = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "preconsult.read",
            AuditEvent.patient_id == world.woman.id,
            AuditEvent.outcome == "allowed",
        )
    )
    denied = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "preconsult.read",
            AuditEvent.patient_id == world.woman.id,
            AuditEvent.outcome == "denied",
        )
    )
    assert reads == 2 and denied == 5
    row = await only_row(session)
    assert (await client.get(f"{P}/responses/{row.id}", headers=world.h["doc"])).status_code == 200
    assert (await client.get(f"{P}/responses/{row.id}/summary", headers=world.h["woman"])).status_code == 200
    assert (await client.get(f"{P}/responses/{row.id}", headers=world.h["other_doc"])).status_code == 403


async def test_the_doctor_sees_a_form_filled_after_triage_for_the_department_within_14_days(
    client, world, session
):
    body = qf.response(qf.cardiology_answers())
    assert (
        await client.put(f"{P}/departments/IM.CARD/response", headers=world.h["man"], json=body)
    ).status_code == 200
    url = f"{P}/bookings/{world.b['man'].id}/summary"
    assert (await client.get(url, headers=world.h["doc"])).status_code == 200
    row = await only_row(session)
    row.completed_at = clock.now() - dt.timedelta(days=15)  # filled a fortnight and a day ago
    await session.commit()
    r = await client.get(url, headers=world.h["doc"])
    assert r.status_code == 404 and r.json()["code"] == "response_not_found"


async def test_the_doctor_of_a_cancelled_or_earlier_booking_does_not_read_later_forms(client, world, session):
    body = qf.response(qf.cardiology_answers())
    url = f"{P}/bookings/{world.b['man'].id}/summary"
    world.b["man"].status = "cancelled"  # he cancelled, and fills the department's form for another doctor
    await session.commit()
    assert (
        await client.put(f"{P}/departments/IM.CARD/response", headers=world.h["man"], json=body)
    ).status_code == 200
    assert (await client.get(url, headers=world.h["doc"])).status_code == 403
    assert (
        await client.get(f"{P}/bookings/{world.b['man'].id}/response", headers=world.h["doc"])
    ).status_code == 403
    world.b["man"].status = "completed"  # a visit that is over: a form filled afterwards is for another visit
    await session.commit()
    row = await only_row(session)
    row.completed_at = world.cs.ends_at + dt.timedelta(minutes=5)
    await session.commit()
    r = await client.get(url, headers=world.h["doc"])
    assert r.status_code == 404 and r.json()["code"] == "response_not_found"


async def test_a_form_of_another_department_is_not_shown(client, world):
    body = qf.response(
        {
            "cc-text": [qf.text("皮疹")],
            "cc-duration": [qf.code("4-7d")],
            "meds-any": [qf.yes(False)],
            "allergy-any": [qf.yes(False)],
        }
    )
    assert (
        await client.put(f"{P}/departments/DERM/response", headers=world.h["man"], json=body)
    ).status_code == 200
    r = await client.get(f"{P}/bookings/{world.b['man'].id}/summary", headers=world.h["doc"])
    assert r.status_code == 404


async def test_openapi_documents_the_routes(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {
        f"{P}/departments/{{code}}/questionnaire",
        f"{P}/bookings/{{booking_id}}/response",
        f"{P}/bookings/{{booking_id}}/summary",
        f"{P}/departments/{{code}}/response",
    } <= set(paths)
