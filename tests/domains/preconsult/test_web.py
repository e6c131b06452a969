"""Pre-consultation pages through the HTTP client: the questionnaire from the booking confirmation and
my appointments, saving and coming back, refused answers shown again, the confirmation, the form after
triage for a family member, elderly mode, and the summary on the doctor's queue page (its doctor only)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.domains.preconsult.test_api import make_world, only_row, stored
from tests.domains.scheduling.test_web import csrf_of, login
from zhiyi.core import clock
from zhiyi.core.audit import AuditEvent
from zhiyi.domains.patients import service as patients


def age(patient) -> int:
    return patients.age_on(patient.birth_date, clock.today())


@pytest.fixture
async def world(session):
    return await make_world(session)


def cardiology_form(csrf: str, **more) -> dict:
    data = {
        "csrf": csrf,
        "q.cc-text": "胸闷三天",
        "q.cc-duration": "1-3d",
        "q.card-chest-pain": "true",
        "q.card-pain-type": "pressure",
        "q.meds-any": "false",
        "q.allergy-any": "true",
        "q.allergy-substance": "青霉素",
        "q.allergy-reaction": "rash",
        "q.rf-card-rest-pain": "true",
        "action": "submit",
    }
    data.update(more)
    return {k: v for k, v in data.items() if v is not None}


async def test_from_my_appointments_to_the_form_and_back_after_saving(client, world, session):
    await login(client, "pc-woman")
    mine = await client.get("/appointments")
    assert f'href="/preconsult/booking/{world.b["woman"].id}"' in mine.text
    url = f"/preconsult/booking/{world.b['woman'].id}"
    page = await client.get(url)
    assert (
        page.status_code == 200
        and 'id="preconsult-form"' in page.text
        and "zhiyi-questionnaire.js" in page.text
    )
    assert 'data-link-id="allergy-substance"' in page.text and "心血管内科预问诊" in page.text
    # follow-ups start hidden; the pregnancy group is there for a woman of 30, hidden items carry her record
    assert 'data-link-id="allergy-substance" data-type="string" data-enable-when=' in page.text
    assert '<input type="hidden" name="q.patient-sex" value="female">' in page.text
    r = await client.post(url, data={"csrf": csrf_of(page.text), "q.cc-text": "胸闷", "action": "save"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?saved=1"
    back = await client.get(r.headers["location"])
    assert 'id="preconsult-saved"' in back.text and ">胸闷</textarea>" in back.text
    assert (await only_row(session)).status == "in-progress"


async def test_submit_shows_the_confirmation_and_drops_hidden_answers(client, world, session):
    await login(client, "pc-woman")
    url = f"/preconsult/booking/{world.b['woman'].id}"
    page = await client.get(url)
    # the smoker said "current", typed packs, then changed to "never": the packs stay in the page but not in
    # the record
    r = await client.post(
        url, data=cardiology_form(csrf_of(page.text), **{"q.pmh-smoking": "never", "q.pmh-packs": "2"})
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/preconsult/done/")
    row = await only_row(session)
    assert (
        row.status == "completed"
        and "pmh-packs" not in str(row.resource)
        and "pmh-smoking" in str(row.resource)
    )
    done = await client.get(r.headers["location"])
    assert (
        done.status_code == 200
        and 'id="preconsult-done"' in done.text
        and 'id="preconsult-urgent"' in done.text
    )
    assert "青霉素" in done.text and 'data-link-id="rf-card-rest-pain"' in done.text


async def test_refused_answers_come_back_with_the_questions_marked(client, world, session):
    await login(client, "pc-woman")
    url = f"/preconsult/booking/{world.b['woman'].id}"
    page = await client.get(url)
    r = await client.post(
        url,
        data=cardiology_form(
            csrf_of(page.text),
            **{"q.allergy-substance": None, "q.card-sbp": "lots", "q.card-home-bp": "true"},
        ),
    )
    assert r.status_code == 422 and 'id="preconsult-errors"' in r.text
    assert 'id="err-allergy-substance"' in r.text and 'id="err-card-sbp"' in r.text
    assert ">胸闷三天</textarea>" in r.text  # what was typed is kept
    r = await client.post(url, data=cardiology_form(csrf_of(page.text), **{"q.cc-text": "痛" * 10_000}))
    assert r.status_code == 422 and 'id="err-cc-text"' in r.text
    assert await stored(session) == 0
    assert (await client.post(url, data=cardiology_form("wrong"))).status_code == 403


async def test_someone_elses_booking_or_department_form_is_refused(client, world, session):
    await login(client, "pc-stranger")
    page = await client.get(f"/preconsult/booking/{world.b['woman'].id}")
    assert page.status_code == 403
    assert (await client.get("/preconsult/booking/not-a-uuid")).status_code == 404
    assert (await client.get("/preconsult/department/NOPE")).status_code == 404
    assert (await client.get(f"/preconsult/department/DERM?patient={world.woman.id}")).status_code == 403
    # a mangled family member is refused, not silently replaced by the user's own record
    assert (await client.get("/preconsult/department/DERM?patient=not-a-uuid")).status_code == 404
    assert await stored(session) == 0


async def test_after_triage_a_proxy_fills_the_department_form_for_her_father(client, world, session):
    await login(client, "pc-woman")
    page = await client.get(f"/preconsult/department/DERM?patient={world.parent.id}")
    assert page.status_code == 200 and 'id="preconsult-people"' in page.text and "皮肤科预问诊" in page.text
    assert f'name="q.patient-age" value="{age(world.parent)}"' in page.text
    data = {
        "csrf": csrf_of(page.text),
        "q.cc-text": "皮疹一周",
        "q.cc-duration": "4-7d",
        "q.meds-any": "false",
        "q.allergy-any": "false",
        "action": "submit",
    }
    r = await client.post(f"/preconsult/department/DERM?patient={world.parent.id}", data=data)
    assert r.status_code == 303, r.text
    row = await only_row(session)
    assert row.patient_id == world.parent.id and row.department_code == "DERM" and row.booking_id is None


async def test_elderly_mode_and_english(client, world):
    await login(client, "pc-woman")
    home = await client.get("/")
    await client.post("/prefs/elderly", data={"csrf": csrf_of(home.text), "on": "1", "next": "/"})
    await client.post("/prefs/lang", data={"csrf": csrf_of(home.text), "locale": "en", "next": "/"})
    page = await client.get(f"/preconsult/booking/{world.b['woman'].id}")
    assert (
        'class="elderly"' in page.text
        and 'id="q-steps"' in page.text
        and "Cardiology pre-consultation" in page.text
    )
    assert "Send to my doctor" in page.text and "What are you allergic to?" in page.text


async def test_the_doctor_sees_the_summary_on_the_queue_page(client, world, session):
    await login(client, "pc-woman")
    url = f"/preconsult/booking/{world.b['woman'].id}"
    page = await client.get(url)
    assert (await client.post(url, data=cardiology_form(csrf_of(page.text)))).status_code == 303
    for who in ("woman", "man"):
        assert (
            await client.post(f"/api/v1/queue/bookings/{world.b[who].id}/arrive", headers=world.h[who])
        ).status_code == 201
    await client.post("/logout", data={"csrf": csrf_of(page.text)})

    await login(client, "pc-doc")
    queue = await client.get(f"/queue/doctor/{world.cs.id}")
    assert queue.status_code == 200
    text = queue.text
    assert f'class="previsit" data-booking="{world.b["woman"].id}" open' in text  # a red flag: open at once
    assert "胸闷三天" in text and "青霉素" in text and 'class="previsit-redflags"' in text
    # he filled nothing
    assert f'data-booking="{world.b["man"].id}"' in text and text.count('class="previsit"') == 1
    reads = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "preconsult.read", AuditEvent.actor_account_id == world.acct["doc"].id)
    )
    assert reads == 1
    # she is called in: her form opens beside her name
    called = await client.post(
        f"/queue/doctor/{world.cs.id}/call_next", data={"csrf": csrf_of(queue.text)}, follow_redirects=True
    )
    assert called.status_code == 200 and 'id="current-patient"' in called.text
    await client.post("/logout", data={"csrf": csrf_of(queue.text)})

    await login(client, "pc-nurse")  # campus staff may run the queue, but the form is for the doctor
    nurse = await client.get(f"/queue/doctor/{world.cs.id}")
    assert nurse.status_code == 200 and "青霉素" not in nurse.text and 'class="previsit"' not in nurse.text
