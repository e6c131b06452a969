"""Issue 16, item 1 and acceptance 2: a registrar books a walk-in patient at the desk on a phone-sized
screen, end to end, in Chinese and in English (the times form used to carry patient=None, so every desk
booking was refused with 403)."""

from __future__ import annotations

import pytest

from tests.web.test_browser_booking import sessions_with_free_times, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "done_text"), [("zh-CN", "已为"), ("en", "Booked for")])
def test_a_registrar_books_a_walk_in_patient_on_a_phone(browser, live_server, locale, done_text):
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("#username").fill("demo-registrar")
    page.locator("#password").fill("registrar-demo-2468")
    page.locator("#login-submit").click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/desk")
    page.locator("#q-name").fill("张")
    page.locator("#desk-search").click()
    page.wait_for_load_state()
    # on a phone: the table scrolls within the page, the button is tappable
    page.locator("a.desk-book").first.click()
    page.wait_for_url(f"{live_server}/book")
    booked = False
    for _ in sessions_with_free_times(page, live_server):
        assert page.locator("#desk-patient").is_visible()  # whom the desk books for
        page.locator("#times-form button.slot").first.click()
        page.wait_for_load_state()
        page.locator("#confirm-booking").click()
        page.wait_for_load_state()
        if page.locator("#booking-done").count():  # a session at another campus is refused: try the next
            booked = True
            break
    assert booked, page.content()[-1500:]
    assert done_text in page.locator("#booking-done").inner_text()
    shot(page, f"desk-booked-{locale}")
    context.close()
