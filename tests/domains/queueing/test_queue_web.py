"""Queue pages through the HTTP client: "I have arrived", the position page and its live stream,
the check-in desk (errors, choosing among appointments), the doctor's page and who may see it,
the public screen (numbers, never names), elderly mode."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.domains.queueing.test_queue_api import make_world
from tests.domains.scheduling.test_web import csrf_of, login
from tests.factories import org as orgf
from tests.factories import scheduling as sf
from zhiyi.core import audit, clock
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.domains.identity import service as identity
from zhiyi.domains.patients import service as patients
from zhiyi.domains.queueing import service as qservice
from zhiyi.domains.queueing.models import QueueEntry
from zhiyi.web import live


@pytest.fixture
async def world(session):
    return await make_world(session)


async def entries(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(QueueEntry)))


async def test_i_have_arrived_then_my_place(client, world, session):
    await login(client, "q0")
    page = await client.get("/appointments")
    assert f'action="/queue/arrive/{world.b[0].id}"' in page.text
    r = await client.post(f"/queue/arrive/{world.b[0].id}", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/queue/position/{world.b[0].id}"
    place = await client.get(r.headers["location"])
    assert place.status_code == 200 and 'data-ahead="0"' in place.text and "data-events=" in place.text
    assert await entries(session) == 1
    again = await client.get("/appointments")
    assert f'href="/queue/position/{world.b[0].id}"' in again.text  # checked in: the queue link instead


async def test_arriving_without_csrf_or_for_someone_else_changes_nothing(client, world, session):
    await login(client, "q1")
    page = await client.get("/appointments")
    assert (await client.post(f"/queue/arrive/{world.b[1].id}", data={})).status_code == 403
    r = await client.post(f"/queue/arrive/{world.b[0].id}", data={"csrf": csrf_of(page.text)})
    assert r.status_code in (403, 404)
    assert (await client.get(f"/queue/position/{world.b[0].id}")).status_code in (403, 404)
    assert await entries(session) == 0


async def test_the_live_stream_sends_the_position(client, world, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "queue_stream_seconds", 0.5)  # the test client reads whole bodies
    monkeypatch.setattr(get_settings(), "queue_poll_seconds", 0.1)
    await login(client, "q0")
    page = await client.get("/appointments")
    await client.post(f"/queue/arrive/{world.b[0].id}", data={"csrf": csrf_of(page.text)})
    async with client.stream("GET", f"/queue/position/{world.b[0].id}/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
                break
    assert data["status"] == "waiting" and data["ahead"] == 0 and 'data-ahead="0"' in data["html"]


async def test_desk_page_checks_in_and_explains_refusals(client, world, session):
    await login(client, "desk")
    page = await client.get("/queue/desk")
    csrf = csrf_of(page.text)
    empty = await client.post("/queue/desk", data={"csrf": csrf, "token": ""})
    assert empty.status_code == 422 and 'id="checkin-error"' in empty.text
    bad = await client.post("/queue/desk", data={"csrf": csrf, "token": "<script>alert(1)</script>"})
    assert 400 <= bad.status_code < 500 and "<script>alert(1)" not in bad.text
    token = patients.issue_onecode(patient_id=world.people[0].id)
    ok = await client.post("/queue/desk", data={"csrf": csrf, "token": token, "priority_reason": "disabled"})
    assert ok.status_code == 200 and 'id="checkin-done"' in ok.text
    assert await entries(session) == 1


async def test_desk_asks_which_appointment_when_there_are_two(client, world, session):
    surgery = await orgf.department(session, code="SURG")
    surgeon = await orgf.practitioner(session, department=surgery, campuses=[world.main])
    other_cs, other_slots = await sf.session_with_slots(
        session,
        practitioner=surgeon,
        department=surgery,
        campus=world.main,
        starts_in=dt.timedelta(minutes=30),
        slots=1,
    )
    await sf.booking(
        session,
        cs=other_cs,
        slot=other_slots[0],
        patient=world.people[0],
        account=world.accts[0],
        status="booked",
    )
    await session.commit()
    await login(client, "desk")
    csrf = csrf_of((await client.get("/queue/desk")).text)
    token = patients.issue_onecode(patient_id=world.people[0].id)
    choose = await client.post("/queue/desk", data={"csrf": csrf, "token": token})
    assert choose.status_code == 409 and choose.text.count('name="booking"') == 2
    assert await entries(session) == 0
    chosen = await client.post(
        "/queue/desk", data={"csrf": csrf, "token": token, "booking": str(world.b[0].id)}
    )
    assert chosen.status_code == 200 and 'id="checkin-done"' in chosen.text
    assert await entries(session) == 1


async def test_doctor_page_lists_and_calls_and_audits(client, world, session):
    await login(client, "doc")
    home = await client.get("/queue/doctor")
    assert f'href="/queue/doctor/{world.cs.id}"' in home.text
    token = patients.issue_onecode(patient_id=world.people[0].id)
    await client.post("/api/v1/queue/checkins", headers=world.desk, json={"token": token})
    before = len(await audit.trail(session, patient_id=world.people[0].id))
    page = await client.get(f"/queue/doctor/{world.cs.id}")
    assert page.status_code == 200 and world.people[0].name in page.text
    assert len(await audit.trail(session, patient_id=world.people[0].id)) == before + 1  # the read is audited
    r = await client.post(f"/queue/doctor/{world.cs.id}/call_next", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    after = await client.get(f"/queue/doctor/{world.cs.id}")
    assert 'id="current-patient">1 · ' in after.text
    # nobody left waiting: said as a sentence, not as the list's number 1 (it read "1. 无人候诊")
    waiting = after.text.split('id="waiting-list"', 1)[1].split("</ol>", 1)[0]
    assert "<li" not in waiting and 'id="nobody-waiting"' in after.text
    bad = await client.post(f"/queue/doctor/{world.cs.id}/explode", data={"csrf": csrf_of(page.text)})
    assert bad.status_code == 404


async def test_patients_cannot_open_the_doctors_page(client, world):
    await login(client, "q0")
    assert (await client.get(f"/queue/doctor/{world.cs.id}")).status_code == 403
    assert (await client.get("/queue/desk")).status_code == 403


async def test_the_screen_shows_numbers_never_names_and_works_in_elderly_mode(client, world, session):
    token = patients.issue_onecode(patient_id=world.people[0].id)
    await client.post("/api/v1/queue/checkins", headers=world.desk, json={"token": token})
    screen = await client.get(f"/queue/display/{world.cs.id}")  # no login: it hangs in the waiting room
    assert screen.status_code == 200 and world.people[0].name not in screen.text
    assert '<ol id="display-waiting"><li>1</li>' in screen.text.replace("\n", "")
    await login(client, "q0")
    csrf = csrf_of((await client.get("/appointments")).text)
    await client.post("/prefs/elderly", data={"csrf": csrf, "on": "1", "next": "/"})
    place = await client.get(f"/queue/position/{world.b[0].id}")
    assert 'class="elderly"' in place.text and 'data-ahead="0"' in place.text
    assert (await client.get(f"/queue/display/{uuid.uuid4()}")).status_code == 404


async def test_two_taps_from_home_to_the_queue(client, world, session):
    await login(client, "q0")
    home = await client.get("/")
    assert f'href="/queue/arrive/{world.b[0].id}"' in home.text  # tap 1
    confirm = await client.get(f"/queue/arrive/{world.b[0].id}")
    assert confirm.status_code == 200 and 'id="arrive-submit"' in confirm.text
    r = await client.post(f"/queue/arrive/{world.b[0].id}", data={"csrf": csrf_of(confirm.text)})  # tap 2
    assert r.status_code == 303 and r.headers["location"] == f"/queue/position/{world.b[0].id}"
    home = await client.get("/")
    assert f'href="/queue/position/{world.b[0].id}"' in home.text  # now: the place in the queue
    assert (await client.get(f"/queue/arrive/{world.b[1].id}")).status_code in (403, 404)  # not theirs


async def test_the_stream_stops_and_reloads_when_the_reader_may_no_longer_see(
    client, world, session, monkeypatch
):
    monkeypatch.setattr(get_settings(), "queue_stream_seconds", 0.5)
    monkeypatch.setattr(get_settings(), "queue_poll_seconds", 0.1)
    await login(client, "q0")
    page = await client.get("/appointments")
    await client.post(f"/queue/arrive/{world.b[0].id}", data={"csrf": csrf_of(page.text)})
    real, calls = qservice.position, []

    async def revoked_after_the_first(*args, **kwargs):  # say a family link was revoked meanwhile
        calls.append(1)
        if len(calls) > 1:
            raise Forbidden()
        return await real(*args, **kwargs)

    monkeypatch.setattr(qservice, "position", revoked_after_the_first)
    r = await client.get(f"/queue/position/{world.b[0].id}/events")
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert events and events[-1].get("reload") is True and "html" not in events[-1]


async def test_an_open_stream_stops_when_its_account_is_disabled(client, world, session, monkeypatch):
    """Issue 15, item 2 for live pages: a disabled account's open page gets no more at its next heartbeat."""
    monkeypatch.setattr(get_settings(), "queue_stream_seconds", 5)
    monkeypatch.setattr(get_settings(), "queue_poll_seconds", 0.05)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    await login(client, "q0")
    page = await client.get("/appointments")
    await client.post(f"/queue/arrive/{world.b[0].id}", data={"csrf": csrf_of(page.text)})
    real, calls = qservice.position, []

    async def sent_then_disabled(
        db_session, **kwargs
    ):  # an admin disables the account as the first event goes
        calls.append(1)  # (the first call is the request's own check, before the stream)
        answer = await real(db_session, **kwargs)
        if len(calls) == 2:
            await identity.set_active(db_session, account_id=kwargs["actor"].account_id, active=False)
        return answer

    monkeypatch.setattr(qservice, "position", sent_then_disabled)
    r = await client.get(f"/queue/position/{world.b[0].id}/events")
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert (
        len(events) == 2
        and "html" in events[0]
        and events[1] == {"version": events[0]["version"], "reload": True}
    )


async def test_arriving_too_early_is_a_page_and_the_home_tile_says_when_check_in_opens(
    client, world, session
):
    """Issue 16, item 2: "I have arrived" before the window answered raw JSON, and the tile showed hours
    early."""
    earlier = clock.now() - dt.timedelta(hours=2)
    zone = ZoneInfo(get_settings().timezone)
    if earlier.astimezone(zone).date() != world.cs.session_on:
        pytest.skip(
            "two hours ago was another day in the hospital's zone: the appointment is not today's then"
        )
    await login(client, "q0")
    try:
        clock.freeze(earlier)
        home = await client.get("/", headers={"accept-language": "en"})
        assert f'href="/queue/arrive/{world.b[0].id}"' not in home.text and "Check-in opens at" in home.text
        page = await client.get("/appointments")
        r = await client.post(
            f"/queue/arrive/{world.b[0].id}",
            data={"csrf": csrf_of(page.text)},
            headers={"accept-language": "en"},
        )
    finally:
        clock.freeze(None)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Check-in has not opened yet" in r.text and '"code"' not in r.text
    assert await entries(session) == 0
