"""Booking pages through the HTTP client: find, choose, confirm (idempotent), my appointments, cancel,
family members, friendly refusals, and the elderly "Book again" path in at most four taps."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core.i18n import translator
from zhiyi.domains.scheduling.models import Booking, Slot


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    im = await orgf.department(session, code="IM")
    card = await orgf.department(session, code="IM.CARD", parent=im)
    doc = await orgf.practitioner(session, department=card, campuses=[main], title="chief")
    cs, slots = await sf.session_with_slots(session, practitioner=doc, department=card, campus=main, slots=3)
    later_cs, later = await sf.session_with_slots(
        session,
        practitioner=doc,
        department=card,
        campus=main,
        starts_in=dt.timedelta(days=9),
        released=False,
    )
    me = await pf.patient(session, campus=main, name="预约人", phone="13900000061")
    parent = await pf.patient(session, campus=main, name="老父亲", age=78, phone="13900000062")
    other = await pf.patient(session, campus=main, name="陌生人", phone="13900000063")
    await pf.family_link(session, proxy=me, dependent=parent, relationship="parent")
    me_acct = await accounts.account(session, username="me", roles={"patient"}, patient=me)
    other_acct = await accounts.account(session, username="other", roles={"patient"}, patient=other)
    await session.commit()
    return SimpleNamespace(
        main=main,
        im=im,
        card=card,
        doc=doc,
        cs=cs,
        slots=slots,
        later_cs=later_cs,
        later=later,
        me=me,
        parent=parent,
        other=other,
        me_acct=me_acct,
        other_acct=other_acct,
    )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


async def login(client, username: str):
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": username, "password": accounts.PASSWORD, "next": "/", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 303


async def confirm_form(client, slot, patient) -> dict:
    page = await client.get(f"/book/confirm?{urlencode({'slot': slot.id, 'patient': patient.id})}")
    assert page.status_code == 200, page.text
    return {k: hidden(page.text, k) for k in ("csrf", "key", "slot_id", "patient_id")}


async def count(session, *, status: str = "booked") -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Booking).where(Booking.status == status))
    )


async def test_search_shows_sessions_with_local_times_and_release(client, world):
    await login(client, "me")
    page = await client.get("/book")
    assert page.status_code == 200 and f'<optgroup label="{world.im.name_zh}">' in page.text
    # the parent department finds its subspecialty's clinics
    r = await client.get(f"/book?department={world.im.id}")
    assert r.status_code == 200
    assert world.doc.name_zh in r.text and "主任医师" in r.text and "普通门诊" in r.text
    assert f'href="/book/session/{world.cs.id}"' in r.text and "剩余号源：3" in r.text
    zone = ZoneInfo("Asia/Shanghai")
    opens = translator("zh_CN").format.time(world.later_cs.release_at.astimezone(zone), "short")
    # what a page forgetting the zone would show
    utc = world.later_cs.release_at.astimezone(dt.UTC).strftime("%H:%M")
    assert "号源尚未放出，将于" in r.text and opens in r.text and utc not in r.text
    assert f'href="/book/session/{world.later_cs.id}"' not in r.text
    slot = world.slots[0].starts_at.astimezone(zone)
    times = await client.get(f"/book/session/{world.cs.id}")
    assert times.status_code == 200 and translator("zh_CN").format.time(slot, "short") in times.text
    assert "老父亲" in times.text  # whom for: myself or my family member


async def test_booking_through_the_form_and_a_resubmitted_form_books_once(client, world, session):
    await login(client, "me")
    form = await confirm_form(client, world.slots[0], world.me)
    assert re.fullmatch(r"[0-9a-f]{32}", form["key"])
    first = await client.post("/book/confirm", data=form)
    assert first.status_code == 303 and first.headers["location"].startswith("/book/done/")
    again = await client.post("/book/confirm", data=form)  # a double tap, or the browser's "resend"
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    assert await count(session) == 1
    assert await session.scalar(select(Slot.booked).where(Slot.id == world.slots[0].id)) == 1
    done = await client.get(first.headers["location"])
    assert done.status_code == 200 and 'id="booking-done"' in done.text
    for text in (world.doc.name_zh, world.card.name_zh, world.main.name_zh, "预约人", 'href="/appointments"'):
        assert text in done.text
    fresh = await confirm_form(client, world.slots[1], world.me)
    assert fresh["key"] != form["key"]  # every rendering of the form is a new request


async def test_a_full_slot_shows_a_friendly_409_page(client, world, session):
    world.slots[0].booked = 1
    await session.commit()
    await login(client, "me")
    r = await client.post("/book/confirm", data=await confirm_form(client, world.slots[0], world.me))
    assert r.status_code == 409 and "该时段已约满。" in r.text and 'id="booking-error"' in r.text
    assert f'href="/book/session/{world.cs.id}?patient={world.me.id}"' in r.text  # choose another time
    assert await count(session) == 0


async def test_domain_refusals_are_pages_with_their_status(client, world, session):
    _, past = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(hours=-3),
    )
    await session.commit()
    await login(client, "me")
    assert (
        await client.post("/book/confirm", data=await confirm_form(client, world.slots[0], world.me))
    ).status_code == 303
    cases = [
        (world.slots[1], 409, "该患者当天在此科室已有预约。"),
        (past[0], 422, "该时段已过。"),
        (world.later[0], 409, "号源尚未放出。"),
    ]
    for slot, status, message in cases:
        r = await client.post("/book/confirm", data=await confirm_form(client, slot, world.me))
        assert (r.status_code, message in r.text) == (status, True), r.text
    form = await confirm_form(client, world.slots[2], world.me) | {"key": "bad key"}
    assert (await client.post("/book/confirm", data=form)).status_code == 422
    form = await confirm_form(client, world.slots[2], world.me) | {"patient_id": str(world.other.id)}
    assert (await client.post("/book/confirm", data=form)).status_code == 403  # not my family member
    assert await count(session) == 1


async def test_booking_for_a_family_member(client, world, session):
    await login(client, "me")
    r = await client.post("/book/confirm", data=await confirm_form(client, world.slots[1], world.parent))
    assert r.status_code == 303
    assert await session.scalar(select(Booking.patient_id)) == world.parent.id
    done = await client.get(r.headers["location"])
    assert "老父亲" in done.text
    stranger = await client.get(
        f"/book/confirm?{urlencode({'slot': world.slots[2].id, 'patient': world.other.id})}"
    )
    assert stranger.status_code == 403


async def test_my_appointments_lists_bookings_and_cancelling_frees_the_place(client, world, session):
    await login(client, "me")
    await client.post("/book/confirm", data=await confirm_form(client, world.slots[0], world.parent))
    page = await client.get("/appointments")
    booking_id = await session.scalar(select(Booking.id))
    assert page.status_code == 200 and f'action="/appointments/{booking_id}/cancel"' in page.text
    assert "老父亲" in page.text and world.doc.name_zh in page.text
    r = await client.post(f"/appointments/{booking_id}/cancel", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    after = await client.get(r.headers["location"])
    assert 'id="appointments-message"' in after.text and "已取消" in after.text
    assert f'action="/appointments/{booking_id}/cancel"' not in after.text
    assert await count(session, status="cancelled") == 1
    assert await session.scalar(select(Slot.booked).where(Slot.id == world.slots[0].id)) == 0
    again = await client.post(f"/appointments/{booking_id}/cancel", data={"csrf": csrf_of(after.text)})
    assert again.status_code == 409 and "该预约已失效。" in again.text


async def test_anonymous_visitors_are_sent_to_login(client, world):
    for path in (
        "/book",
        "/appointments",
        f"/book/session/{world.cs.id}",
        f"/book/confirm?slot={world.slots[0].id}",
    ):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = await client.post("/book/confirm", data={"slot_id": str(world.slots[0].id)})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_a_patient_cannot_cancel_another_patients_booking(client, world, session):
    await login(client, "other")
    await client.post("/book/confirm", data=await confirm_form(client, world.slots[0], world.other))
    booking_id = await session.scalar(select(Booking.id))
    client.cookies.clear()
    await login(client, "me")
    page = await client.get("/appointments")
    assert "陌生人" not in page.text
    r = await client.post(f"/appointments/{booking_id}/cancel", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 403 and "陌生人" not in r.text
    assert await count(session) == 1
    assert (await client.get(f"/book/done/{booking_id}")).status_code == 403


class Page(HTMLParser):
    """The links and forms of a page: just enough to tap like a person would."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.forms: list[dict] = []
        self._link: list | None = None
        self._button: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self._link = [a["href"], ""]
        elif tag == "form":
            self.forms.append(
                {"action": a.get("action"), "method": a.get("method", "get"), "fields": [], "buttons": []}
            )
        elif tag == "input" and self.forms and (a.get("type") != "radio" or "checked" in a):
            self.forms[-1]["fields"].append((a.get("name"), a.get("value", "")))
        elif tag == "button" and self.forms:
            self._button = {"name": a.get("name"), "value": a.get("value"), "id": a.get("id"), "text": ""}
            self.forms[-1]["buttons"].append(self._button)

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append(tuple(self._link))
            self._link = None
        elif tag == "button":
            self._button = None


class Thumb:
    """Follows one link or presses one button per tap, counting the taps."""

    def __init__(self, client):
        self.client, self.taps, self.page = client, 0, None

    async def open(self, path: str) -> None:
        self.page = await self._follow(await self.client.get(path))

    async def _follow(self, r):
        while r.status_code == 303:
            r = await self.client.get(r.headers["location"])
        assert r.status_code == 200, r.text
        return r

    async def link(self, text: str) -> None:
        href = next(h for h, t in Page(self.page.text).links if text in t)
        self.taps += 1
        self.page = await self._follow(await self.client.get(href))

    async def button(self, pick) -> None:
        for form in Page(self.page.text).forms:
            button = next((b for b in form["buttons"] if pick(b)), None)
            if button:
                data = [f for f in form["fields"] if f[0]] + (
                    [(button["name"], button["value"])] if button["name"] else []
                )
                self.taps += 1
                if form["method"].lower() == "post":
                    r = await self.client.post(form["action"], data=dict(data))
                else:
                    r = await self.client.get(f"{form['action']}?{urlencode(data)}")
                self.page = await self._follow(r)
                return
        raise AssertionError("no such button")


async def test_elderly_return_visit_is_booked_in_at_most_four_taps(client, world, session):
    """The issue's promise: from the patient's home page to a confirmed booking for a return visit to
    the same department in at most 4 taps, in elderly mode, here for the elderly parent."""
    last_week, seen = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=-7),
    )
    await sf.booking(session, cs=last_week, slot=seen[0], patient=world.parent, account=world.me_acct)
    await session.commit()
    await login(client, "me")
    home = await client.get("/")
    await client.post("/prefs/elderly", data={"on": "1", "next": "/", "csrf": csrf_of(home.text)})

    portal = await client.get("/portal")  # the portal offers the same shortcut as the home page
    assert f"再次预约：{world.card.name_zh}（老父亲）" in portal.text and 'href="/book"' in portal.text

    thumb = Thumb(client)
    await thumb.open("/")
    assert 'class="elderly"' in thumb.page.text
    await thumb.link(f"再次预约：{world.card.name_zh}")  # 1: straight to the next free clinic's times
    assert 'class="elderly"' in thumb.page.text and "老父亲" in thumb.page.text
    await thumb.button(lambda b: b["name"] == "slot")  # 2: the first free time
    await thumb.button(lambda b: b["id"] == "confirm-booking")  # 3
    assert 'id="booking-done"' in thumb.page.text and "老父亲" in thumb.page.text
    assert thumb.taps <= 4
    booked = (
        await session.execute(
            select(Booking.patient_id, Booking.session_id).where(Booking.status == "booked")
        )
    ).one()
    assert tuple(booked) == (world.parent.id, world.cs.id)
    # booked again: no more shortcut
    assert f"再次预约：{world.card.name_zh}" not in (await client.get("/")).text
