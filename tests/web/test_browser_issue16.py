"""Issue 16, acceptance 1: each journey that failed a real person, walked in Chromium on a 390 px phone,
in Chinese and in English (item 1, the desk's booking, is test_browser_desk.py).

A demo of this module's own (its bookings must not meet other modules'); what a journey needs that the
demo does not hold (a clinic whose times have passed, one starting within the cancel cut-off, two
clinics at one time) is written into its database as a clinic office would have made it."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.servers import demo_server
from zhiyi.core import ids
from zhiyi.domains import registry  # noqa: F401  (every domain's tables)
from zhiyi.domains.identity.models import Account
from zhiyi.domains.org.models import Department, Practitioner
from zhiyi.domains.patients.models import Patient
from zhiyi.domains.scheduling.models import Booking, ClinicSession, Slot

pytestmark = pytest.mark.browser
LOCALES = ["zh-CN", "en"]
ZONE = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 390, "height": 844}
PASSWORDS = {
    "demo-patient": "patient-demo-2468",
    "demo-registrar": "registrar-demo-2468",
    "demo-doctor": "doctor-demo-2468",
    "demo-admin": "admin-demo-2468",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("issue16")
    with demo_server(base) as root:
        yield root, create_engine(f"sqlite:///{base / 'demo.db'}")


@contextmanager
def written(engine):
    with Session(engine) as s:
        yield s
        s.commit()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


_doctors = itertools.count()


def clinic(
    engine, *, starts_at: dt.datetime, slots: int = 3, minutes: int = 10, skip: set[str] = frozenset()
):
    """A released open clinic of a doctor at the demo's main campus, in a department not in `skip`:
    (session id, slot ids, department id)."""
    with written(engine) as s:
        patient = s.scalar(
            select(Patient)
            .join(Account, Account.patient_id == Patient.id)
            .where(Account.username == "demo-patient")
        )
        # a doctor of its own each time (one extra clinic a doctor a day), never one who signs in to the demo
        day = starts_at.astimezone(ZONE).date()
        booked = select(Booking.department_id).where(
            Booking.patient_id == patient.id,
            Booking.session_on == day,
            Booking.status.in_(("booked", "checked_in")),
        )
        doc = s.scalar(
            select(Practitioner)
            .join(Department, Department.id == Practitioner.department_id)
            .where(
                Practitioner.profession == "doctor",
                Department.code.not_in(skip),
                Department.id.not_in(booked),
                Practitioner.id.not_in(
                    select(Account.practitioner_id).where(Account.practitioner_id.is_not(None))
                ),
            )
            .order_by(Practitioner.code)
            .offset(next(_doctors))
            .limit(1)
        )
        cs = ClinicSession(
            id=ids.new_id(),
            practitioner_id=doc.id,
            department_id=doc.department_id,
            campus_id=patient.registered_campus_id,
            room_id=None,
            session_on=day,
            period="extra",
            clinic_type="general",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes * slots),
            release_at=_now() - dt.timedelta(days=1),
            status="open",
        )
        s.add(cs)
        s.flush()
        made = [
            Slot(
                id=ids.new_id(),
                session_id=cs.id,
                starts_at=starts_at + dt.timedelta(minutes=minutes * i),
                ends_at=starts_at + dt.timedelta(minutes=minutes * (i + 1)),
                capacity=1,
                booked=0,
            )
            for i in range(slots)
        ]
        s.add_all(made)
        code = s.get(Department, doc.department_id).code
        return cs.id, [x.id for x in made], doc.department_id, code


def book_directly(engine, *, session_id, slot_id) -> str:
    """demo-patient's booking, as the desk's would be kept (for a time pages cannot book: soon, or
    tomorrow)."""
    with written(engine) as s:
        patient, account = s.execute(
            select(Patient, Account)
            .join(Account, Account.patient_id == Patient.id)
            .where(Account.username == "demo-patient")
        ).one()
        cs, slot = s.get(ClinicSession, session_id), s.get(Slot, slot_id)
        slot.booked += 1
        b = Booking(
            id=ids.new_id(),
            slot_id=slot.id,
            session_id=cs.id,
            patient_id=patient.id,
            department_id=cs.department_id,
            session_on=cs.session_on,
            status="booked",
            channel="desk",
            booked_by_account_id=account.id,
            created_at=_now(),
        )
        s.add(b)
        return str(b.id)


def phone(browser, locale: str, root: str, username: str | None = None):
    context = browser.new_context(locale=locale, viewport=PHONE)
    page = context.new_page()
    if username:
        page.goto(f"{root}/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(PASSWORDS[username])
        page.locator("#login-submit").click()
        page.wait_for_url(f"{root}/")
    return context, page


def lang_of(page) -> str:
    return page.locator("html").get_attribute("lang")


def fits(page) -> bool:
    """Nothing on the page is wider than the phone (no sideways scrolling of the page itself)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def submit_form(page, action: str, fields: dict | None = None) -> None:
    """Submit a form to `action` from the current page, as a page left open too long would (its CSRF
    token)."""
    page.evaluate(
        """([action, fields]) => {
        const f = document.createElement('form'); f.method = 'post'; f.action = action;
        const add = (n, v) => {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v;
          f.appendChild(i);
        };
        add('csrf', document.querySelector('input[name=csrf]').value);
        for (const [n, v] of Object.entries(fields)) add(n, v);
        document.body.appendChild(f); f.submit(); }""",
        [action, fields or {}],
    )
    page.wait_for_load_state()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_2_arriving_too_early_is_a_page_in_the_language(browser, demo, locale):
    root, engine = demo
    start = _now() + dt.timedelta(hours=3)
    session_id, slots, _, _ = clinic(engine, starts_at=start, skip={"EM"})
    booking = book_directly(engine, session_id=session_id, slot_id=slots[0])
    context, page = phone(browser, locale, root, "demo-patient")
    assert (
        page.locator(f'a[href="/queue/arrive/{booking}"], form[action="/queue/arrive/{booking}"]').count()
        == 0
    )
    page.goto(f"{root}/appointments")
    submit_form(page, f"/queue/arrive/{booking}")  # the button of a page opened hours ago, say
    text = page.locator("main").inner_text()
    assert lang_of(page) == locale and not page.content().lstrip().startswith("{")
    assert ("尚未开放签到" in text) if locale == "zh-CN" else "Check-in has not opened yet" in text
    assert '"code"' not in page.content()
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_3_times_that_have_passed_are_not_offered(browser, demo, locale):
    root, engine = demo
    session_id, _, department, _ = clinic(engine, starts_at=_now() - dt.timedelta(minutes=40), skip={"EM"})
    context, page = phone(browser, locale, root, "demo-patient")
    page.goto(f"{root}/book?department={department}")
    assert page.locator(f'li.session[data-session="{session_id}"]').count() == 0
    page.goto(f"{root}/book/session/{session_id}")
    assert page.locator("#session-over").is_visible() and page.locator("button.slot").count() == 0
    assert page.locator("#session-over").inner_text() == (
        "该门诊的就诊时间都已过。" if locale == "zh-CN" else "Every time of this clinic has passed."
    )
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_4_the_cancel_cut_off_is_said_before_booking_and_no_button_after_it(browser, demo, locale):
    root, engine = demo
    later_id, later_slots, _, _ = clinic(
        engine, starts_at=_now() + dt.timedelta(days=3, hours=1), skip={"EM"}
    )
    soon_id, soon_slots, _, _ = clinic(engine, starts_at=_now() + dt.timedelta(minutes=70), skip={"EM"})
    soon = book_directly(engine, session_id=soon_id, slot_id=soon_slots[0])
    context, page = phone(browser, locale, root, "demo-patient")
    page.goto(f"{root}/book/session/{later_id}")
    page.locator("#times-form button.slot").first.click()
    page.wait_for_load_state()
    notice = page.locator("#cancel-until").inner_text()
    assert (
        ("前可在线取消" in notice) if locale == "zh-CN" else notice.startswith("You can cancel online until")
    )
    page.goto(f"{root}/appointments")
    card = page.locator(f'li.booking[data-booking="{soon}"]')
    assert card.locator("details.cancel").count() == 0 and card.locator(".cancel-closed").is_visible()
    assert (
        ("请联系门诊" in card.inner_text())
        if locale == "zh-CN"
        else "contact the clinic" in card.inner_text()
    )
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_5_one_patient_cannot_hold_two_bookings_at_one_time(browser, demo, locale):
    root, engine = demo
    start = (_now() + dt.timedelta(days=4)).replace(second=0)
    first_id, _, _, first_code = clinic(engine, starts_at=start, skip={"EM"})
    second_id, _, _, _ = clinic(engine, starts_at=start, skip={"EM", first_code})
    context, page = phone(browser, locale, root, "demo-patient")
    for session_id in (first_id, second_id):
        page.goto(f"{root}/book/session/{session_id}")
        page.locator("#times-form button.slot").first.click()
        page.wait_for_load_state()
        page.locator("#confirm-booking").click()
        page.wait_for_load_state()
    error = page.locator("#booking-error").inner_text()
    assert lang_of(page) == locale
    assert (
        ("已有预约，与此时间重叠" in error) if locale == "zh-CN" else "at the same time as this one" in error
    )
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_6_the_home_page_promises_only_what_works(browser, demo, locale):
    root, _ = demo
    context, page = phone(browser, locale, root)
    page.goto(root)
    text = page.locator("body").inner_text()
    words = ("缴费", "取药", "无需排队") if locale == "zh-CN" else ("pay", "medicine")
    assert not [w for w in words if w in text.lower()] and fits(page)
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_7_triage_answers_in_the_pages_language(browser, demo, locale):
    root, _ = demo
    context, page = phone(browser, locale, root, "demo-patient")
    page.goto(f"{root}/triage")
    back = page.locator(".bodymap").inner_text()
    assert ("背面" in back and "上一步" not in back) if locale == "zh-CN" else "Back of the body" in back
    other = "I have had a toothache for three days" if locale == "zh-CN" else "牙疼了三天，牙龈也肿了"
    page.locator("textarea[name=text]").fill(other)
    page.locator("#triage-submit").click()
    page.wait_for_load_state()
    answer = page.locator("main").inner_text().replace(other, "")
    assert (
        ("口腔" in answer)
        if locale == "zh-CN"
        else ("Stomatology" in answer and not re.search(r"[\u4e00-\u9fff]", answer))
    )
    page.goto(f"{root}/triage")
    page.locator("textarea[name=text]").fill("asdfghjkl")
    page.locator("#triage-submit").click()
    page.wait_for_load_state()
    said = page.locator("#triage-error").inner_text()
    assert ("请用几个词说说哪里不舒服" in said) if locale == "zh-CN" else "Describe your symptoms" in said
    assert page.locator("textarea[name=text]").input_value() == "asdfghjkl"
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_8_the_audit_trail_reads_in_words_and_fits_a_phone(browser, demo, locale):
    root, engine = demo
    with written(engine) as s:
        name = s.scalar(
            select(Patient.name)
            .join(Account, Account.patient_id == Patient.id)
            .where(Account.username == "demo-patient")
        )
    context, page = phone(browser, locale, root, "demo-admin")
    page.goto(f"{root}/admin")
    page.locator("#f-patient").fill(name)
    page.locator("#audit-search").click()
    page.wait_for_load_state()
    rows = page.locator("li.trail-row")
    assert rows.count() > 0 and fits(page)
    first = rows.first.inner_text()
    assert name in page.locator("#audit-rows").inner_text()
    assert not re.search(r"\b[0-9a-f]{8}\b", first) and "book patient" not in first
    what = rows.first.locator(".what").inner_text()  # what was done, in words of the page's language
    assert (re.search(r"[\u4e00-\u9fff]", what) is not None) == (
        locale == "zh-CN"
    ) and "." not in what.split()[0]
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_9_the_desk_form_keeps_what_was_typed_and_says_why(browser, demo, locale):
    root, _ = demo
    context, page = phone(browser, locale, root, "demo-registrar")
    page.goto(f"{root}/desk")
    page.locator("#r-name").fill("张" * 300)
    page.locator("#r-id").fill("110105194912310021")  # a bad check digit
    page.locator("#r-phone").fill("13566660009")
    page.locator("form[action='/desk/register'] button[type=submit]").click()
    page.wait_for_load_state()
    said = page.locator("[role=alert]").first.inner_text()
    assert ("最多 60 个字符" in said) if locale == "zh-CN" else "at most 60 characters" in said
    assert page.locator("#r-phone").input_value() == "13566660009" and page.locator("#r-name").input_value()
    assert fits(page)
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_item_10_the_doctors_day_and_the_emergency_review(browser, demo, locale):
    root, _ = demo
    context, page = phone(browser, locale, root, "demo-patient")
    page.goto(f"{root}/triage")
    page.locator("textarea[name=text]").fill("我爸突然嘴歪了，说话也说不清楚")
    page.locator("#triage-submit").click()
    page.wait_for_load_state()
    assert page.locator("#emergency").is_visible()
    context.close()
    context, page = phone(browser, locale, root, "demo-doctor")
    page.goto(f"{root}/triage/emergencies")
    row = page.locator("td.contact").first.inner_text()
    assert row.strip() and page.locator("td.contact a[href^='tel:']").count() > 0
    page.goto(f"{root}/queue/doctor")
    times = sorted(
        page.locator("a.clinic").evaluate_all(
            "els => els.map(e => [Date.parse(e.dataset.starts), Date.parse(e.dataset.ends)])"
        )
    )
    assert times and all(b[0] >= a[1] for a, b in zip(times, times[1:], strict=False)), times  # none overlap
    page.locator('a.clinic[data-period="extra"]').click()
    page.wait_for_load_state()
    waiting = page.locator("#waiting-list li")
    assert waiting.count() >= 1 and "无人候诊" not in page.locator("#waiting-list").inner_text()
    context.close()
