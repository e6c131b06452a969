"""Browser journey (issue 5, pre-consultation): the demo patient books a time in the clinic running now
for a family member, fills the pre-consultation form from the booking confirmation (a question hidden by
enableWhen appears only after the answer that triggers it; an answer to a question hidden again is not
stored), submits, checks in, and the doctor's queue page shows the summary: the chief complaint, the
allergy and the red flag. Then the same form in elderly mode, one section a step.

It runs on a demo of its own (the queue journey counts the patients waiting in the shared one). Found by
ids, names and data attributes, never by wording."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import demo_server
from tests.web.test_browser_booking import shot
from tests.web.test_browser_queue import login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("preconsult")) as root:
        yield root


def set_elderly(page, on: bool) -> None:
    if ("elderly" in (page.locator("body").get_attribute("class") or "")) != on:
        page.locator("#switch-elderly").click()
        page.wait_for_load_state()


def stored_link_ids(live_server: str, response_id: str) -> set[str]:
    token = httpx.post(
        f"{live_server}/api/v1/auth/token",
        data={"username": "demo-patient", "password": "patient-demo-2468"},
        timeout=30,
    ).json()["access_token"]
    r = httpx.get(
        f"{live_server}/api/v1/preconsult/responses/{response_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    found = set()

    def walk(items):
        for i in items:
            found.add(i["linkId"])
            walk(i.get("item", []))

    walk(r.json()["resource"]["item"])
    return found


def test_fill_the_form_after_booking_and_the_doctor_reads_the_summary(browser, own_server):
    live_server = own_server
    contexts = [browser.new_context(locale="zh-CN", viewport={"width": 412, "height": 900}) for _ in range(2)]
    doctor, patient = (
        login(contexts[0], live_server, "demo-doctor", "doctor-demo-2468"),
        login(contexts[1], live_server, "demo-patient", "patient-demo-2468"),
    )
    try:
        set_elderly(patient, False)
        doctor.goto(f"{live_server}/queue/doctor")
        session_id = doctor.locator('a.clinic[data-period="extra"]').get_attribute("href").rsplit("/", 1)[1]

        # book the first free time of the clinic running now for a family member (the second person offered)
        patient.goto(f"{live_server}/book/session/{session_id}")
        patient.locator("#times-form input[name=patient]").nth(1).check()
        patient.locator("#times-form button.slot").first.click()
        patient.wait_for_load_state()
        patient.locator("#confirm-booking").click()
        patient.wait_for_load_state()
        link = patient.locator("#preconsult-link")
        booking_id = link.get_attribute("href").rsplit("/", 1)[1]
        link.click()
        patient.wait_for_load_state()
        patient.wait_for_selector("#preconsult-form[data-live='1']")

        # skip logic, live: the allergen is asked only once the patient says they have an allergy
        substance = patient.locator('[data-link-id="allergy-substance"]')
        assert substance.is_hidden()
        patient.locator('textarea[name="q.cc-text"]').fill("胸闷三天，活动后加重")
        patient.locator('input[name="q.cc-duration"][value="1-3d"]').check()
        patient.locator('input[name="q.meds-any"][value="false"]').check()
        patient.locator('input[name="q.allergy-any"][value="true"]').check()
        substance.wait_for(state="visible")
        patient.locator('input[name="q.allergy-substance"]').fill("青霉素")
        patient.locator('input[name="q.allergy-reaction"][value="rash"]').check()
        # a home blood pressure typed, then the question that asked for it answered "no": hidden again
        sbp = patient.locator('[data-link-id="card-sbp"]')
        assert sbp.is_hidden()
        patient.locator('input[name="q.card-home-bp"][value="true"]').check()
        sbp.wait_for(state="visible")
        patient.locator('input[name="q.card-sbp"]').fill("210")
        patient.locator('input[name="q.card-home-bp"][value="false"]').check()
        sbp.wait_for(state="hidden")
        patient.locator('input[name="q.rf-card-rest-pain"][value="true"]').check()  # a red flag
        shot(patient, "preconsult-form")
        patient.locator("#preconsult-submit").click()
        patient.wait_for_url(f"{live_server}/preconsult/done/*")
        assert (
            patient.locator("#preconsult-done").is_visible()
            and patient.locator("#preconsult-urgent").is_visible()
        )
        shot(patient, "preconsult-done")
        response_id = patient.url.rsplit("/", 1)[1]
        stored = stored_link_ids(live_server, response_id)
        assert {"cc-text", "allergy-substance", "card-home-bp", "rf-card-rest-pain"} <= stored
        assert "card-sbp" not in stored  # typed, then hidden: not stored

        # the family member arrives; the doctor's queue shows the summary on their entry
        patient.goto(f"{live_server}/appointments")
        patient.locator(f'li.booking[data-booking="{booking_id}"] button.arrive').click()
        patient.wait_for_load_state()
        doctor.goto(f"{live_server}/queue/doctor/{session_id}")
        summary = doctor.locator(f'details.previsit[data-booking="{booking_id}"]')
        assert summary.is_visible() and summary.get_attribute("open") is not None  # a red flag: open
        assert "胸闷三天" in summary.locator(".previsit-cc").inner_text()
        assert "青霉素" in summary.locator(".previsit-allergies").inner_text()
        assert summary.locator('.previsit-redflags li[data-link-id="rf-card-rest-pain"]').count() == 1
        assert summary.locator('[data-link-id="card-sbp"]').count() == 0
        shot(doctor, "preconsult-doctor")

        # elderly mode: large type and one section a step
        set_elderly(patient, True)
        patient.goto(f"{live_server}/preconsult/booking/{booking_id}")
        patient.wait_for_selector("#preconsult-form[data-live='1']")
        assert (
            patient.locator("#q-steps").is_visible()
            and patient.locator("#preconsult-form").get_attribute("data-step") == "1"
        )
        visible = patient.locator("fieldset.q-section").evaluate_all(
            "els => els.filter(e => e.offsetParent !== null).length"
        )
        assert visible == 1 and patient.locator("#preconsult-submit").is_hidden()
        patient.locator("#q-next").click()
        assert patient.locator("#preconsult-form").get_attribute("data-step") == "2"
        shot(patient, "preconsult-elderly")
    finally:
        for c in contexts:
            c.close()
