"""Browser journey (issue 4, pages): find a doctor, choose a time, book it for myself, see it in my
appointments.

Works in either language and mode (another browser test may have changed the demo patient's preferences),
so it finds things by id and class, never by wording.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("ZHIYI_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def sessions_with_free_times(page, live_server):
    """Open each released clinic with free times in turn (departments in the select's order), yielding
    while the page shows it."""
    page.goto(f"{live_server}/book")
    departments = page.locator("#f-department option").evaluate_all(
        "els => els.map(e => e.value).filter(Boolean)"
    )
    assert departments, "the demo has departments with clinics"
    for department in departments:
        page.goto(f"{live_server}/book")
        page.select_option("#f-department", department)
        page.locator("#find-submit").click()
        page.wait_for_load_state()
        for href in page.locator("li.session a.choose").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))"
        ):
            page.goto(f"{live_server}{href}")
            if page.locator("#times-form button.slot").count():
                yield


def open_first_session_with_free_times(page, live_server) -> None:
    """The first department (in the select's order) whose first released clinic with places has free times."""
    for _ in sessions_with_free_times(page, live_server):
        return
    raise AssertionError("no released clinic with free times in the seeded demo")


def test_book_the_first_free_time_for_myself_and_see_it(page, live_server):
    page.goto(f"{live_server}/login")
    page.locator("#username").fill("demo-patient")
    page.locator("#password").fill("patient-demo-2468")
    page.locator("#login-submit").click()
    page.wait_for_url(f"{live_server}/")
    assert page.locator('a.tile[href="/book"]').is_visible()

    open_first_session_with_free_times(page, live_server)
    shot(page, "booking-times")
    radios = page.locator("#times-form input[name=patient]")
    assert radios.count() == 3  # myself, the elderly parent and the child
    me = radios.first.get_attribute("value")
    # myself by default
    assert page.locator("#times-form input[name=patient]:checked").get_attribute("value") == me
    first = page.locator("#times-form button.slot").first
    time_text = first.inner_text().strip()
    first.click()
    page.wait_for_load_state()
    assert page.locator("#confirm-form input[name=patient_id]").get_attribute("value") == me
    assert len(page.locator("#confirm-form input[name=key]").get_attribute("value")) == 32
    page.locator("#confirm-booking").click()
    page.wait_for_load_state()
    assert page.locator("#booking-done").is_visible()
    shot(page, "booking-done")

    page.locator("#my-appointments").click()
    page.wait_for_load_state()
    upcoming = page.locator("li.booking").filter(has=page.locator("form[action$='/cancel']"))
    assert upcoming.filter(has_text=time_text).count() == 1  # listed, with its cancel button
    shot(page, "booking-appointments")
