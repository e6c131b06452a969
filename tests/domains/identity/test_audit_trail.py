"""The audit trail reads like a record a privacy officer would use (issue 16, item 8): who (name and
role), did what (in words, in the page's language), to whom (name and record number), when, from
where and why; filters by patient (name, record number, ID number, phone, one-code), actor, action and
dates; paging; a visit's many page views as one row; bookings made and cancelled are in it; an admin
reads only their campuses' patients, and each trail read is itself audited."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from tests.web.test_pages import csrf_of, web_login
from zhiyi.core.audit import AuditEvent
from zhiyi.domains.identity import audit_trail
from zhiyi.domains.patients import service as patients

API = "/api/v1/scheduling"


@pytest.fixture
async def world(session):
    main, east = (
        await orgf.campus(session, code="MAIN", is_main=True),
        await orgf.campus(session, code="EAST"),
    )
    dept = await orgf.department(session, code="IM")
    doc = await orgf.practitioner(session, department=dept, campuses=[main])
    cs, slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=main, slots=3, starts_in=dt.timedelta(days=2)
    )
    alice_p = await pf.patient(session, campus=main, name="李丽", phone="13900000051")
    bob_p = await pf.patient(session, campus=east, name="李波", phone="13900000052")
    alice = await accounts.account(session, username="alice", roles={"patient"}, patient=alice_p)
    await accounts.account(session, username="bob", roles={"patient"}, patient=bob_p)
    await accounts.account(session, username="desk", roles={"registrar"}, campuses=[main])
    await accounts.account(session, username="privacy", roles={"admin"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(
        main=main,
        cs=cs,
        slots=slots,
        alice_p=alice_p,
        bob_p=bob_p,
        alice=await accounts.bearer(session, alice),
    )


def rows(html: str) -> list[str]:
    return re.findall(r'<li class="card trail-row[^"]*"[^>]*>(.*?)</li>', html, flags=re.S)


async def test_the_trail_names_people_says_what_in_words_and_collapses_a_visit(client, world, session):
    await web_login(client, "alice")
    for _ in range(12):  # the booking pages, opened again and again while choosing
        assert (await client.get("/book")).status_code == 200
    booked = await client.post(
        f"{API}/bookings",
        headers={**world.alice, "Idempotency-Key": uuid.uuid4().hex},
        json={"slot_id": str(world.slots[0].id)},
    )
    assert booked.status_code == 201
    cancelled = await client.post(f"{API}/bookings/{booked.json()['id']}/cancel", headers=world.alice)
    assert cancelled.status_code == 200
    client.cookies.clear()
    await web_login(client, "desk")
    await client.get(f"/desk?name={world.alice_p.name}")  # found in the desk's search
    client.cookies.clear()
    await web_login(client, "privacy")

    zh = await client.get("/admin/audit", params={"patient": world.alice_p.name})
    assert zh.status_code == 200
    shown = rows(zh.text)
    text = " ".join(shown)
    views = [r for r in shown if "打开了预约页面" in r]
    assert len(views) == 1  # twelve page views (and the home page's shortcut), one row with their count
    assert int(re.search(r'class="badge">(\d+) 次<', views[0]).group(1)) >= 12
    assert "预约了号源" in text and "取消了预约" in text and "在搜索中找到" in text
    # the actor by name, the patient too
    assert "李丽" in text and world.alice_p.mrn in text and "alice" in text
    assert "挂号员" in text  # the desk's role, in words
    assert "book patient" not in text and str(world.alice_p.id)[:8] not in text  # no codes, no id fragments
    en = await client.get(
        "/admin/audit", params={"patient": world.alice_p.mrn}, headers={"accept-language": "en"}
    )
    assert (
        "Booked an appointment" in en.text
        and "Cancelled an appointment" in en.text
        and " times</span>" in en.text
    )
    # each trail shown is a read of the patient's data, audited
    reads = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "audit.read", AuditEvent.patient_id == world.alice_p.id)
    )
    assert reads == 2


async def test_filters_by_patient_in_every_form_by_actor_action_and_date(client, world, session):
    await client.post(
        f"{API}/bookings",
        headers={**world.alice, "Idempotency-Key": uuid.uuid4().hex},
        json={"slot_id": str(world.slots[1].id)},
    )
    await web_login(client, "privacy")
    onecode = patients.issue_onecode(patient_id=world.alice_p.id)
    for typed in (world.alice_p.name, world.alice_p.mrn, world.alice_p.phone, onecode):
        page = await client.get("/admin/audit", params={"patient": typed})
        assert 'data-action="booking.create"' in page.text, typed
    only = await client.get(
        "/admin/audit", params={"patient": world.alice_p.name, "action": "booking.create"}
    )
    assert {m for m in re.findall(r'data-action="([^"]+)"', only.text)} == {"booking.create"}
    nobody = await client.get("/admin/audit", params={"who": "desk"})
    assert 'data-action="booking.create"' not in nobody.text
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    later = await client.get("/admin/audit", params={"patient": world.alice_p.name, "since": tomorrow})
    assert 'id="audit-empty"' in later.text
    # another campus's patient is not this admin's to read, by any form of filter
    other = await client.get("/admin/audit", params={"patient": world.bob_p.name})
    assert 'id="audit-no-patient"' in other.text and not rows(other.text)
    everything = await client.get("/admin/audit")
    assert rows(everything.text) and "李波" not in " ".join(rows(everything.text))


async def test_pages_follow_on_without_gaps_or_repeats(client, world, session, monkeypatch):
    monkeypatch.setattr(audit_trail, "PAGE_ROWS", 3)
    for slot in world.slots:  # three bookings and three cancellations, each its own row
        made = await client.post(
            f"{API}/bookings",
            headers={**world.alice, "Idempotency-Key": uuid.uuid4().hex},
            json={"slot_id": str(slot.id)},
        )
        await client.post(f"{API}/bookings/{made.json()['id']}/cancel", headers=world.alice)
    await web_login(client, "privacy")
    seen, url, pages = [], "/admin/audit", 0
    params = {"patient": world.alice_p.mrn, "action": "booking.create"}
    while url and pages < 5:
        page = await client.get(url, params=params if pages == 0 else None)
        seen += re.findall(r'<li class="card trail-row[^"]*" data-action="([^"]+)"', page.text)
        nxt = re.search(r'id="audit-next" href="([^"]+)"', page.text)
        url, pages = (nxt.group(1).replace("&amp;", "&") if nxt else None), pages + 1
    assert seen == ["booking.create"] * 3 and pages == 1  # three rows: one page of three
    seen, url, pages = [], "/admin/audit", 0
    while url and pages < 10:
        page = await client.get(url, params={"patient": world.alice_p.mrn} if pages == 0 else None)
        seen += re.findall(r'data-action="(booking\.[a-z]+)"', page.text)
        nxt = re.search(r'id="audit-next" href="([^"]+)"', page.text)
        url, pages = (nxt.group(1).replace("&amp;", "&") if nxt else None), pages + 1
    assert sorted(seen) == ["booking.cancel"] * 3 + ["booking.create"] * 3 and pages >= 3


async def test_only_admins_read_the_trail(client, world):
    await web_login(client, "desk")
    assert (await client.get("/admin/audit")).status_code == 403
    r = await client.get("/admin?mrn=P0000000001")
    assert r.status_code == 403
    client.cookies.clear()
    await web_login(client, "privacy")
    r = await client.get(f"/admin?mrn={world.alice_p.mrn}")
    assert r.status_code == 303 and r.headers["location"] == f"/admin/audit?patient={world.alice_p.mrn}"
    assert csrf_of((await client.get("/admin/audit")).text)
