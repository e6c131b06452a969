"""Browser journey: log in, switch language, switch elderly mode (acceptance 5)."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("ZHIYI_SCREENSHOTS")  # a folder to keep screenshots in, for people to look at


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def base_font_px(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def test_login_switch_language_and_elderly_mode(page, live_server):
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_label("手机号或用户名").fill("demo-patient")
    page.get_by_label("密码").fill("patient-demo-2468")
    page.locator("#login-submit").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("link", name="我的健康").first.is_visible()
    shot(page, "home-zh")

    page.locator("#switch-lang").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="My health").first.is_visible()
    assert page.get_by_text("我的健康").count() == 0

    before = base_font_px(page)
    assert before < 20
    page.locator("#switch-elderly").click()
    page.wait_for_load_state()
    after = base_font_px(page)
    assert after >= 20 and after > before
    assert page.locator("body").get_attribute("class") == "elderly"
    assert page.locator("#switch-elderly").inner_text() == "Standard mode"
    shot(page, "home-en-elderly")

    # remembered for the user: a new browser context that logs in again gets the same mode and language
    page.context.clear_cookies()
    page.goto(f"{live_server}/login")
    page.locator("#username").fill("demo-patient")
    page.locator("#password").fill("patient-demo-2468")
    page.locator("#login-submit").click()
    page.wait_for_url(f"{live_server}/")
    assert base_font_px(page) >= 20
    assert page.locator("html").get_attribute("lang") == "en"


def test_wrong_password_shows_a_clear_message(page, live_server):
    page.goto(f"{live_server}/login")
    page.locator("#username").fill("demo-patient")
    page.locator("#password").fill("not-the-password-1")
    page.locator("#login-submit").click()
    assert page.locator("#login-error").inner_text() == "用户名或密码错误。"
