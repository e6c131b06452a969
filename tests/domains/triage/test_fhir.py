"""Triage assessments in the FHIR repository: a patient's assessment is a ClinicalImpression after the
outbox runs (an emergency one in progress until clinical staff reviewed it); FHIR clients cannot change
it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import fhir as ff
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core.policy import Actor
from zhiyi.domains.triage import fhir
from zhiyi.domains.triage import service as triage
from zhiyi.domains.triage.schemas import TriageAsk


@pytest.fixture
async def world(session, app):  # the app installs the policies the services ask
    main = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=main, name="分诊")
    acct = await accounts.account(session, username="tri-p", roles={"patient"}, patient=p)
    nurse = await accounts.account(session, username="tri-n", roles={"nurse"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        patient_id=p.id,
        me=Actor(acct.id, frozenset({"patient"}), patient_id=p.id),
        nurse=Actor(nurse.id, frozenset({"nurse"}), campus_ids=frozenset({main.id})),
    )


async def test_an_assessment_is_a_clinical_impression(session, world, drain):
    made = await triage.assess(session, actor=world.me, ask=TriageAsk(text="咳嗽三天，有痰，发烧"), lang="zh")
    await session.commit()
    await drain()
    found = ff.valid(await ff.current(session, "ClinicalImpression", made.id))
    assert found["status"] == "completed"
    assert found["subject"] == {"reference": f"Patient/{world.patient_id}"}
    assert found["description"] == "咳嗽三天，有痰，发烧"
    suggested = [e for e in found["extension"] if e["url"].endswith("triage-suggestion")]
    assert suggested and suggested[0]["extension"][0]["valueCoding"]["system"] == "urn:zhiyi:department"
    assert any(
        f["itemCodeableConcept"]["coding"][0]["system"] == "urn:zhiyi:triage-symptom"
        for f in found["finding"]
    )
    assert await fhir.project_all(session) == 0


async def test_an_emergency_waits_for_review(client, session, world, drain, admin_headers):
    made = await triage.assess(
        session, actor=world.me, ask=TriageAsk(text="突然胸痛，大汗，喘不上气"), lang="zh"
    )
    await session.commit()
    await drain()
    found = ff.valid(await ff.current(session, "ClinicalImpression", made.id))
    assert found["status"] == "in-progress"
    assert any(f.get("basis") == "red flag" for f in found["finding"])

    changed = {k: v for k, v in found.items() if k != "meta"} | {"status": "completed"}
    r = await client.put(f"/fhir/ClinicalImpression/{made.id}", headers=admin_headers, json=changed)
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "business-rule", r.text
    assert (await ff.current(session, "ClinicalImpression", made.id)) == found

    await triage.mark_reviewed(session, actor=world.nurse, assessment_id=made.id)
    await session.commit()
    await drain()
    assert (await ff.current(session, "ClinicalImpression", made.id))["status"] == "completed"
