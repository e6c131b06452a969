"""Issue 15, item 6 in a real browser: the pages pass their own Content-Security-Policy (no inline script or
style, nothing from elsewhere), for a patient and for staff, in both languages, with the scripts that
make pages live, speak and branch still running; and nothing frames them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# collects what Chromium reports (an init script runs in every document before the page's own, outside CSP)
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || ''));
});
"""
PATIENT_PAGES = [
    "/",
    "/portal",
    "/portal/record",
    "/portal/onecode",
    "/portal/family",
    "/book",
    "/appointments",
    "/triage",
]
STAFF_PAGES = {
    "demo-registrar": ("registrar-demo-2468", ["/desk", "/queue/desk", "/triage/desk", "/staff"]),
    "demo-doctor": ("doctor-demo-2468", ["/queue/doctor", "/triage/emergencies"]),
    "demo-admin": ("admin-demo-2468", ["/admin", "/admin/accounts", "/admin/break-glass"]),
}
PUBLIC_PAGES = ["/login", "/signup", "/docs"]


def visit(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__cspViolations")


def login(page, root: str, username: str, password: str) -> None:
    page.goto(f"{root}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#login-submit").click()
    page.wait_for_url(f"{root}/")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_pages_pass_their_own_csp(browser, live_server, locale):
    found = {}
    context = browser.new_context(locale=locale, viewport={"width": 412, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    for path in PUBLIC_PAGES:
        found[path] = visit(page, f"{live_server}{path}")
    visit(page, f"{live_server}/docs")
    page.locator("#swagger-ui .info").wait_for()  # Swagger UI ran: its start-up script's nonce was honoured
    login(page, live_server, "demo-patient", "patient-demo-2468")
    for path in PATIENT_PAGES:
        found[path] = visit(page, f"{live_server}{path}")
    page.locator("#switch-elderly").click()  # elderly mode: the same pages, other styles
    page.wait_for_load_state()
    found["/ (elderly)"] = page.evaluate("window.__cspViolations")
    context.close()
    for username, (password, paths) in STAFF_PAGES.items():
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        context.add_init_script(WATCH)
        page = context.new_page()
        login(page, live_server, username, password)
        for path in paths:
            found[f"{username} {path}"] = visit(page, f"{live_server}{path}")
        context.close()
    violations = {path: v for path, v in found.items() if v}
    assert not violations, violations


def test_no_page_can_be_framed(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    # set_content returns once the document and its frames have loaded (or failed to)
    page.set_content(f'<iframe id="f" src="{live_server}/login" width="400" height="300"></iframe>')
    assert len(page.frames) == 2
    # refused: frame-ancestors, X-Frame-Options
    assert page.frame_locator("#f").locator("#username").count() == 0
    context.close()
