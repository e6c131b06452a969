"""Waiting-list pages: "Join the waiting list" on a full session's page (elderly mode, family members),
the place in line and a held place with its expiry on "My appointments", accept (a resubmitted form
books once), decline, leave, friendly refusals, and why booking is refused while suspended."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.domains.scheduling.test_web import Thumb, confirm_form, csrf_of, hidden, login
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.core.i18n import translator
from zhiyi.domains.scheduling import holds
from zhiyi.domains.scheduling.models import Booking, Slot, WaitlistEntry

NO_TIMES = translator("zh_CN").gettext("No free times are left in this clinic.")


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    card = await orgf.department(session, code="IM.CARD")
    doc = await orgf.practitioner(session, department=card, campuses=[main], title="chief")
    cs, slots = await sf.session_with_slots(session, practitioner=doc, department=card, campus=main, slots=2)
    me = await pf.patient(session, campus=main, name="预约人", phone="13900000091")
    parent = await pf.patient(session, campus=main, name="老父亲", age=78, phone="13900000092")
    other = await pf.patient(session, campus=main, name="陌生人", phone="13900000093")
    await pf.family_link(session, proxy=me, dependent=parent, relationship="parent")
    me_acct = await accounts.account(session, username="me", roles={"patient"}, patient=me)
    other_acct = await accounts.account(session, username="other", roles={"patient"}, patient=other)
    taken = [
        await sf.booking(
            session,
            cs=cs,
            slot=slot,
            patient=other
            if i == 0
            else await pf.patient(session, campus=main, name="已约", phone=f"1390000010{i}"),
            account=other_acct,
            status="booked",
        )
        for i, slot in enumerate(slots)
    ]
    await session.commit()
    return SimpleNamespace(
        main=main,
        card=card,
        doc=doc,
        cs=cs,
        slots=slots,
        me=me,
        parent=parent,
        other=other,
        me_acct=me_acct,
        taken=taken,
        other_h=await accounts.bearer(session, other_acct),
    )


async def entries(session) -> list[WaitlistEntry]:
    q = select(WaitlistEntry).order_by(WaitlistEntry.created_at).execution_options(populate_existing=True)
    return list((await session.scalars(q)).all())


async def free_a_place(client, world):
    """The other patient cancels: the place is held for the first in line."""
    r = await client.post(f"/api/v1/scheduling/bookings/{world.taken[0].id}/cancel", headers=world.other_h)
    assert r.status_code == 200, r.text


def local_time(at: dt.datetime) -> str:
    return translator("zh_CN").format.time(at.astimezone(ZoneInfo("Asia/Shanghai")), "short")


async def test_join_the_waiting_list_of_a_full_session_in_elderly_mode(client, world, session):
    await login(client, "me")
    home = await client.get("/")
    await client.post("/prefs/elderly", data={"on": "1", "next": "/", "csrf": csrf_of(home.text)})
    found = await client.get(f"/book?department={world.card.id}")
    assert (
        "已约满" in found.text
        and f'class="button plain waitlist" href="/book/session/{world.cs.id}"' in found.text
    )
    thumb = Thumb(client)
    await thumb.open(f"/book/session/{world.cs.id}?patient={world.parent.id}")
    page = thumb.page.text
    assert 'class="elderly"' in page and NO_TIMES in page
    assert 'id="join-waitlist"' in page and "加入候补" in page and "老父亲" in page
    await thumb.button(lambda b: b["id"] == "join-waitlist")  # 1 tap, for the chosen family member
    assert thumb.taps == 1 and 'class="elderly"' in thumb.page.text
    assert "您已加入候补名单" in thumb.page.text and "候补中：排第1位" in thumb.page.text
    (entry,) = await entries(session)
    assert (entry.patient_id, entry.status, entry.channel) == (world.parent.id, "waiting", "online")
    again = await client.get(f"/book/session/{world.cs.id}")
    assert "老父亲正在候补：排第1位" in again.text
    assert 'id="join-waitlist"' in again.text  # the user themself may still join
    assert f'name="patient_id" value="{world.me.id}"' in again.text
    assert f'name="patient_id" value="{world.parent.id}"' not in again.text  # already waiting


async def test_a_held_place_is_accepted_on_my_appointments_and_a_resubmitted_form_books_once(
    client, world, session
):
    await sf.waitlist_entry(session, cs=world.cs, patient=world.me, account=world.me_acct)
    await session.commit()
    await free_a_place(client, world)
    await login(client, "me")
    page = await client.get("/appointments")
    (entry,) = await entries(session)
    assert entry.status == "offered"
    assert "已为您保留一个号源" in page.text and f"保留至{local_time(entry.hold_expires_at)}" in page.text
    assert local_time(world.slots[0].starts_at) in page.text
    form = {"csrf": csrf_of(page.text), "key": hidden(page.text, "key")}
    first = await client.post(f"/appointments/waitlist/{entry.id}/accept", data=form)
    assert first.status_code == 303 and first.headers["location"].startswith("/book/done/")
    again = await client.post(f"/appointments/waitlist/{entry.id}/accept", data=form)  # a double tap
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    done = await client.get(first.headers["location"])
    assert 'id="booking-done"' in done.text and "预约人" in done.text
    mine = await session.scalar(
        select(func.count()).select_from(Booking).where(Booking.patient_id == world.me.id)
    )
    assert mine == 1
    after = await client.get("/appointments")
    assert "已为您保留一个号源" not in after.text and world.doc.name_zh in after.text


async def test_decline_and_leave_on_my_appointments(client, world, session):
    await sf.waitlist_entry(
        session,
        cs=world.cs,
        patient=world.me,
        account=world.me_acct,
        joined_at=clock.now() - dt.timedelta(minutes=2),
    )
    await sf.waitlist_entry(session, cs=world.cs, patient=world.parent, account=world.me_acct)
    await session.commit()
    await free_a_place(client, world)
    await login(client, "me")
    page = await client.get("/appointments")
    mine, parents = await entries(session)
    assert "候补中：排第1位" in page.text  # the parent is next in line behind the held place
    r = await client.post(f"/appointments/waitlist/{mine.id}/decline", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/appointments?waitlist=declined"
    after = await client.get(r.headers["location"])
    assert "您已放弃该号源，将顺延给下一位候补患者。" in after.text
    assert [e.status for e in await entries(session)] == ["declined", "offered"]  # passed to the parent
    r = await client.post(f"/appointments/waitlist/{parents.id}/leave", data={"csrf": csrf_of(after.text)})
    assert r.status_code == 303
    assert "您已退出候补名单。" in (await client.get(r.headers["location"])).text
    assert [e.status for e in await entries(session)] == ["declined", "declined"]
    # back on open sale
    assert await session.scalar(select(Slot.booked).where(Slot.id == world.slots[0].id)) == 0


async def test_waitlist_refusals_are_friendly_pages(client, world, session):
    _, open_slots = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=2),
    )
    entry = await sf.waitlist_entry(session, cs=world.cs, patient=world.me, account=world.me_acct)
    await session.commit()
    await login(client, "me")
    page = await client.get(f"/book/session/{world.cs.id}")
    csrf = csrf_of(page.text)
    r = await client.post(
        f"/book/session/{open_slots[0].session_id}/waitlist",
        data={"csrf": csrf, "patient_id": str(world.me.id)},
    )
    assert (
        r.status_code == 409
        and "该门诊仍有号源，请直接预约，无需候补。" in r.text
        and 'id="waitlist-error"' in r.text
    )
    r = await client.post(
        f"/book/session/{world.cs.id}/waitlist", data={"csrf": csrf, "patient_id": str(world.other.id)}
    )
    assert r.status_code == 403  # not a family member
    r = await client.post(
        f"/book/session/{world.cs.id}/waitlist", data={"csrf": csrf, "patient_id": str(world.me.id)}
    )
    assert r.status_code == 409 and "该患者已在此门诊的候补名单中。" in r.text
    assert (await client.post("/book/session/not-a-uuid/waitlist", data={"csrf": csrf})).status_code == 404
    r = await client.post(
        f"/appointments/waitlist/{entry.id}/accept", data={"csrf": csrf, "key": uuid.uuid4().hex}
    )
    assert r.status_code == 409 and "没有为该患者保留的号源" in r.text
    r = await client.post(f"/appointments/waitlist/{entry.id}/accept", data={"csrf": csrf, "key": "bad key"})
    assert r.status_code == 422
    assert (await client.post("/appointments/waitlist/nope/leave", data={"csrf": csrf})).status_code == 404
    # no CSRF token
    assert (await client.post(f"/appointments/waitlist/{entry.id}/leave", data={})).status_code == 403
    assert [(e.id, e.status) for e in await entries(session)] == [(entry.id, "waiting")]


async def test_a_suspended_patient_is_told_why_online_booking_is_refused(client, world, session):
    _, free = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(days=2),
    )
    ends = clock.now() + dt.timedelta(days=20)
    await sf.suspension(session, patient=world.me, ends_at=ends)
    await session.commit()
    await login(client, "me")
    r = await client.post("/book/confirm", data=await confirm_form(client, free[0], world.me))
    assert r.status_code == 403 and 'id="booking-error"' in r.text
    assert f"因多次爽约，在线预约已暂停至{holds.local(ends)}。请到挂号窗口或通过电话预约。" in r.text
    assert (
        await session.scalar(
            select(func.count()).select_from(Booking).where(Booking.patient_id == world.me.id)
        )
        == 0
    )
    ok = await client.post("/book/confirm", data=await confirm_form(client, free[0], world.parent))
    assert ok.status_code == 303  # the family member is not suspended
