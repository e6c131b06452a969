"""Browser journey (issue 4, acceptance 4): a patient books a time in the clinic running now, sees the
booking, is checked in at the desk by their one-code QR, and watches their place in the queue change
live when the doctor calls the next patient. Three people, three browser contexts, one server.

The seeded demo has an extra clinic of demo-doctor starting a few minutes after seeding, with three
patients already checked in (zhiyi/demo/clinic_now.py). Found by ids and data attributes, never by
wording (another browser test may have switched a demo user's language)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.web.test_browser_booking import shot

pytestmark = pytest.mark.browser


def login(context, live_server, username: str, password: str):
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()
    page.wait_for_url(f"{live_server}/")
    return page


def test_book_check_in_by_qr_and_watch_the_queue_move(browser, live_server):
    contexts = [browser.new_context(locale="zh-CN", viewport={"width": 412, "height": 900}) for _ in range(3)]
    try:
        doctor, patient, desk = (
            login(c, live_server, u, p)
            for c, (u, p) in zip(
                contexts,
                (
                    ("demo-doctor", "doctor-demo-2468"),
                    ("demo-patient2", "patient-demo-2468"),
                    ("demo-registrar", "registrar-demo-2468"),
                ),
                strict=True,
            )
        )
        # the doctor's clinics today: the extra clinic running now
        doctor.goto(f"{live_server}/queue/doctor")
        clinic = doctor.locator('a.clinic[data-period="extra"]')
        href = clinic.get_attribute("href")
        session_id = href.rsplit("/", 1)[1]
        clinic.click()
        doctor.wait_for_load_state()
        assert doctor.locator("#waiting-list li[data-number]").count() == 3  # seeded: three waiting
        shot(doctor, "queue-doctor")

        # the patient books the first free time of that clinic and sees it
        patient.goto(f"{live_server}/book/session/{session_id}")
        patient.locator("#times-form button.slot").first.click()
        patient.wait_for_load_state()
        patient.locator("#confirm-booking").click()
        patient.wait_for_load_state()
        assert patient.locator("#booking-done").is_visible()
        patient.locator("#my-appointments").click()
        patient.wait_for_load_state()
        booked = patient.locator("li.booking").filter(has=patient.locator("button.arrive"))
        assert booked.count() == 1
        booking_id = booked.get_attribute("data-booking")

        # the desk scans the patient's one-code
        patient.goto(f"{live_server}/portal/onecode")
        token = patient.locator("#onecode-token").inner_text().strip()
        desk.goto(f"{live_server}/queue/desk")
        desk.locator("#token").fill(token)
        desk.locator("#checkin-submit").click()
        desk.wait_for_load_state()
        assert desk.locator("#checkin-done").is_visible(), desk.content()[-1500:]
        shot(desk, "queue-desk")

        # the patient's place: three ahead; the doctor calls the next patient; the page changes by itself
        patient.goto(f"{live_server}/appointments")
        patient.locator(
            f'li.booking[data-booking="{booking_id}"] a[href="/queue/position/{booking_id}"]'
        ).click()
        patient.wait_for_load_state()
        assert patient.locator(".queue-status").get_attribute("data-ahead") == "3"
        # no eval: the pages' CSP forbids it
        patient.locator("html[data-live-version]").wait_for(state="attached")
        shot(patient, "queue-position-before")
        # the doctor's page reloads itself when the queue changes (the check-in): wait for that rather
        # than racing it with a reload of our own (which the page's own reload aborts)
        try:
            doctor.wait_for_selector(f'#waiting-list li[data-booking="{booking_id}"]', timeout=15000)
        except PlaywrightTimeoutError:
            doctor.reload()
        doctor.wait_for_load_state()
        doctor.locator("#call-next").click()
        doctor.wait_for_load_state()
        assert re.match(r"\d+ · ", doctor.locator("#current-patient").inner_text())
        # no reload: the live stream
        patient.wait_for_selector('.queue-status[data-ahead="2"]', timeout=15000)
        assert patient.locator("#queue-calling").is_visible()
        shot(patient, "queue-position-after")

        # the waiting-area screen shows the number in the room, no names
        screen = contexts[2].new_page()
        screen.goto(f"{live_server}/queue/display/{session_id}")
        current = screen.locator("#display-current").inner_text().strip()
        assert current.isdigit()
        shot(screen, "queue-display")
    finally:
        for c in contexts:
            c.close()
