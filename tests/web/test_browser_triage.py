"""Browser journey (triage issue, acceptance 2): a Chinese complaint typed on the phone leads to a
department and its doctors; a stroke description leads to the emergency instruction, not a clinic;
in elderly mode the body map and a tapped complaint lead to a department without typing.

Finds things by id, class and data attributes, never by wording (another test may have switched
the demo patient's language)."""

from __future__ import annotations

import pytest

from tests.web.test_browser_booking import shot

pytestmark = pytest.mark.browser


def log_in(page, live_server, username="demo-patient2", password="patient-demo-2468"):
    page.goto(f"{live_server}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()
    page.wait_for_url(f"{live_server}/")


def ask(page, live_server, text: str) -> None:
    page.goto(f"{live_server}/triage")
    page.locator("#text").fill(text)
    page.locator("#triage-submit").click()
    page.wait_for_load_state()


def test_a_chinese_complaint_finds_a_department_and_its_doctors_and_a_stroke_the_emergency(page, live_server):
    log_in(page, live_server)
    page.goto(f"{live_server}/")
    assert page.locator('a[href="/triage"]').count()  # offered on the home page

    ask(page, live_server, "这两天牙疼得厉害，晚上睡不着，腮帮子也肿了")
    shot(page, "triage-toothache")
    first = page.locator("article.department").first
    assert first.get_attribute("data-code") == "STOM"
    doctors = first.locator("li.doctor a")
    assert doctors.count() >= 1
    href = doctors.first.get_attribute("href")
    assert href.startswith("/book/session/")
    doctors.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(href)  # straight to that doctor's free times

    ask(page, live_server, "我爸刚才突然嘴歪了，说话也说不清楚，左手拿不住东西")
    shot(page, "triage-stroke")
    assert page.locator("#emergency").is_visible()
    assert page.locator("#call-120").get_attribute("href") == "tel:120"
    assert page.locator("article.department").count() == 0


def test_elderly_mode_taps_the_body_map_and_a_complaint(page, live_server):
    log_in(page, live_server)
    if page.locator("body").get_attribute("class") != "elderly":
        page.locator("#switch-elderly").click()
        page.wait_for_load_state()
    try:
        page.goto(f"{live_server}/triage")
        page.locator("#region-mouth_teeth").click()
        page.wait_for_load_state()
        tiles = page.locator("button.complaint")
        assert 1 <= tiles.count() <= 8  # a short list to tap
        shot(page, "triage-elderly-complaints")
        tiles.first.click()
        page.wait_for_load_state()
        shot(page, "triage-elderly-result")
        assert page.locator("article.department").first.get_attribute("data-code") == "STOM"
    finally:
        page.locator("#switch-elderly").click()  # leave the demo patient as it was
        page.wait_for_load_state()
