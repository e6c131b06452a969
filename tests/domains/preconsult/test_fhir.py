"""Pre-consultation in the FHIR repository: the shipped questionnaires as Questionnaires, a submitted form
as its QuestionnaireResponse after the outbox runs; the patient reaches their own, FHIR clients cannot
change them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.factories import fhir as ff
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import preconsult as qf
from tests.factories import scheduling as sf
from tests.fhir.conftest import FHIR_JSON
from zhiyi.core.policy import Actor
from zhiyi.domains.preconsult import fhir
from zhiyi.domains.preconsult.forms import catalogue


@pytest.fixture
async def world(session, app):  # the app installs the policies the services ask
    main = await orgf.campus(session, code="MAIN", is_main=True)
    im = await orgf.department(session, code="IM")
    card = await orgf.department(session, code="IM.CARD", parent=im)
    doc = await orgf.practitioner(session, department=card, campuses=[main])
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=card, campus=main, starts_in=dt.timedelta(days=1)
    )
    p = await pf.patient(session, campus=main, name="问诊")
    acct = await accounts.account(session, username="pre-p", roles={"patient"}, patient=p)
    b = await sf.booking(session, cs=cs, slot=slots[0], patient=p, account=acct, status="booked")
    await session.commit()
    return SimpleNamespace(
        patient=p, booking=b, acct=acct, me=Actor(acct.id, frozenset({"patient"}), patient_id=p.id)
    )


async def test_the_questionnaires_are_in_the_repository(session):
    await fhir.project_questionnaires(session)
    for form in catalogue():
        found = ff.valid(await ff.current(session, "Questionnaire", form.resource["id"]))
        assert found["url"] == form.url and found["version"] == form.version
    assert await fhir.project_questionnaires(session) == 0


async def test_a_submitted_form_is_a_questionnaire_response(client, session, world, drain, admin_headers):
    row = await qf.submitted(session, actor=world.me, booking_id=world.booking.id)
    await session.commit()
    await drain()
    found = ff.valid(await ff.current(session, "QuestionnaireResponse", row.id))
    assert found["status"] == "completed"
    assert found["subject"] == {"reference": f"Patient/{world.patient.id}"}
    assert found["questionnaire"] == catalogue().for_departments(["IM.CARD"]).canonical
    assert {k: v for k, v in found.items() if k != "meta"} == row.resource

    before = found
    changed = {k: v for k, v in found.items() if k != "meta"} | {"status": "amended"}
    r = await client.put(f"/fhir/QuestionnaireResponse/{row.id}", headers=admin_headers, json=changed)
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "business-rule", r.text
    assert (await client.get(f"/fhir/QuestionnaireResponse/{row.id}", headers=admin_headers)).json() == before


async def test_a_patient_finds_their_own_forms_only(client, session, world, drain, patient_caller):
    row = await qf.submitted(session, actor=world.me, booking_id=world.booking.id)
    await session.commit()
    await drain()
    mine = {**FHIR_JSON, **await accounts.bearer(session, world.acct)}
    await session.commit()
    r = await client.get(f"/fhir/QuestionnaireResponse?subject=Patient/{world.patient.id}", headers=mine)
    assert r.status_code == 200 and [e["resource"]["id"] for e in r.json()["entry"]] == [str(row.id)]
    stranger, stranger_id = await patient_caller("pre-stranger")
    r = await client.get(f"/fhir/QuestionnaireResponse?subject=Patient/{stranger_id}", headers=stranger)
    assert r.status_code == 200 and not r.json().get("entry")
    assert (await client.get(f"/fhir/QuestionnaireResponse/{row.id}", headers=stranger)).status_code == 404
