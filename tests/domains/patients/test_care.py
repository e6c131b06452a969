"""Issue 15 ("decided here"): a clinician reads a patient's record only with a care relationship (a
booking with them or their department, or, for a nurse, at their campus, within the window), or after
breaking the glass with a reason, which the privacy officer's page lists; pharmacists see no records
yet; staff searches need a filter and show only what the reader may see."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.audit import AuditEvent


@pytest.fixture
async def world(session):
    main, east = (
        await orgf.campus(session, code="MAIN", is_main=True),
        await orgf.campus(session, code="EAST"),
    )
    card = await orgf.department(session, code="IM.CARD")
    derm = await orgf.department(session, code="DERM")
    doc = await orgf.practitioner(session, department=card, campuses=[main])
    colleague = await orgf.practitioner(session, department=card, campuses=[main])
    skin = await orgf.practitioner(session, department=derm, campuses=[main])
    booked = await pf.patient(session, campus=east, name="就诊者")  # registered at EAST, seen at MAIN
    other = await pf.patient(session, campus=main, name="路人甲")
    acct = await accounts.account(session, username="care-pt", roles={"patient"}, patient=booked)
    cs, slots = await sf.session_with_slots(
        session, practitioner=colleague, department=card, campus=main, starts_in=dt.timedelta(days=3)
    )
    await sf.booking(session, cs=cs, slot=slots[0], patient=booked, account=acct, status="booked")
    h, accts = {}, {}
    for name, spec in {
        "doctor": dict(roles={"doctor"}, campuses=[main], practitioner=doc),
        "derm": dict(roles={"doctor"}, campuses=[main], practitioner=skin),
        "nurse": dict(roles={"nurse"}, campuses=[main]),
        "east_nurse": dict(roles={"nurse"}, campuses=[east]),
        "pharmacist": dict(roles={"pharmacist"}, campuses=[main, east]),
        "admin": dict(roles={"admin"}, campuses=[main, east]),
    }.items():
        accts[name] = await accounts.account(session, username=f"care-{name}", **spec)
        h[name] = await accounts.bearer(session, accts[name])
    await session.commit()
    return SimpleNamespace(booked=booked, other=other, h=h, accts=accts)


async def status(client, world, who: str, patient) -> int:
    return (await client.get(f"/api/v1/patients/{patient.id}", headers=world.h[who])).status_code


async def test_a_booking_with_the_doctors_department_makes_a_care_relationship(client, world):
    assert await status(client, world, "doctor", world.booked) == 200  # a colleague's clinic, same department
    assert await status(client, world, "doctor", world.other) == 403  # same campus, not in care
    assert await status(client, world, "derm", world.booked) == 403  # another department


async def test_a_nurse_sees_patients_booked_at_her_campus(client, world):
    assert await status(client, world, "nurse", world.booked) == 200
    assert await status(client, world, "nurse", world.other) == 403
    assert await status(client, world, "east_nurse", world.booked) == 403  # registered there, booked here


async def test_a_pharmacist_reads_no_record_yet(client, world):
    assert await status(client, world, "pharmacist", world.booked) == 403
    assert await status(client, world, "pharmacist", world.other) == 403


async def test_the_care_relationship_ends_with_the_window(client, world, session):
    start = clock.now()
    try:
        clock.freeze(start + dt.timedelta(days=40))  # the booking was 37 days ago: outside the 30-day window
        world.h["doctor"] = await accounts.bearer(session, world.accts["doctor"])  # a token of that day
        await session.commit()
        assert await status(client, world, "doctor", world.booked) == 403
    finally:
        clock.freeze(None)


async def test_breaking_the_glass_opens_the_record_with_a_reason_for_a_while(client, world, session):
    assert await status(client, world, "derm", world.other) == 403
    r = await client.post(
        f"/api/v1/patients/{world.other.id}/break-glass",
        headers=world.h["derm"],
        json={"reason": "急诊会诊，患者意识不清"},
    )
    assert r.status_code == 200 and r.json()["name"] == "路人甲"
    assert await status(client, world, "derm", world.other) == 200
    row = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "break_glass"))).one()
    assert row.patient_id == world.other.id and row.reason == "急诊会诊，患者意识不清"
    start = clock.now()
    try:
        clock.freeze(start + dt.timedelta(hours=13))
        world.h["derm"] = await accounts.bearer(session, world.accts["derm"])
        await session.commit()
        assert await status(client, world, "derm", world.other) == 403
    finally:
        clock.freeze(None)
    # refused without a reason, and to those who are not clinicians
    assert (
        await client.post(f"/api/v1/patients/{world.other.id}/break-glass", headers=world.h["derm"], json={})
    ).status_code == 422
    assert (
        await client.post(
            f"/api/v1/patients/{world.other.id}/break-glass",
            headers=world.h["pharmacist"],
            json={"reason": "想看看病历"},
        )
    ).status_code == 403


async def test_the_privacy_officer_lists_broken_glass(client, world, session):
    await client.post(
        f"/api/v1/patients/{world.other.id}/break-glass",
        headers=world.h["derm"],
        json={"reason": "夜班急会诊"},
    )
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    await client.post("/login", data={"username": "care-admin", "password": accounts.PASSWORD, "csrf": csrf})
    r = await client.get("/admin/break-glass")
    assert r.status_code == 200 and "夜班急会诊" in r.text and "路人甲" in r.text and "care-derm" in r.text


async def test_staff_searches_need_a_filter_and_show_only_what_the_reader_may_see(client, world):
    r = await client.get("/api/v1/patients", headers=world.h["admin"])
    assert r.status_code == 422 and r.json()["code"] == "search_needs_a_filter"
    found = await client.get("/api/v1/patients", params={"name": "就诊"}, headers=world.h["doctor"])
    assert found.status_code == 200 and [p["name"] for p in found.json()] == ["就诊者"]
    assert (
        await client.get("/api/v1/patients", params={"name": "路人"}, headers=world.h["doctor"])
    ).json() == []
    by_phone = await client.get(
        "/api/v1/patients", params={"phone": world.other.phone}, headers=world.h["admin"]
    )
    assert [p["name"] for p in by_phone.json()] == ["路人甲"]
    by_id = await client.get(
        "/api/v1/patients", params={"id_number": pf.security_id(world.other)}, headers=world.h["admin"]
    )
    assert [p["name"] for p in by_id.json()] == ["路人甲"]


async def test_the_record_page_offers_the_glass_to_a_clinician_and_it_opens_with_a_reason(
    client, world, session
):
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    await client.post("/login", data={"username": "care-derm", "password": accounts.PASSWORD, "csrf": csrf})
    refused = await client.get(f"/portal/record?patient={world.other.id}")
    assert refused.status_code == 403 and 'id="break-glass-form"' in refused.text
    assert "路人甲" not in refused.text and world.other.mrn not in refused.text  # nothing of the record shown
    csrf = re.search(r'name="csrf" value="([^"]+)"', refused.text).group(1)
    bad = await client.post(f"/staff/patients/{world.other.id}/open", data={"reason": "<b>", "csrf": csrf})
    assert bad.status_code == 422 and "&lt;b&gt;" in bad.text  # what was typed stays (escaped)
    opened = await client.post(
        f"/staff/patients/{world.other.id}/open", data={"reason": "急诊会诊需要", "csrf": csrf}
    )
    assert (
        opened.status_code == 303 and opened.headers["location"] == f"/portal/record?patient={world.other.id}"
    )
    record = await client.get(opened.headers["location"])
    assert record.status_code == 200 and "路人甲" in record.text
