"""Triage pages through the HTTP client: ask, the answer, the emergency page, questions, bad input
on the form, elderly mode's body map, the service desk's pages, and the doctor naming the right
department from the queue page."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from tests.domains.queueing.test_queue_api import make_world
from tests.domains.scheduling.test_web import csrf_of, login
from zhiyi.core.config import get_settings
from zhiyi.domains.org.models import Department
from zhiyi.domains.triage import handover
from zhiyi.domains.triage.models import TriageAssessment


@pytest.fixture
async def world(session):
    return await make_world(session)


async def ask(client, text: str, **extra) -> tuple[int, str]:
    page = await client.get("/triage")
    r = await client.post("/triage", data={"csrf": csrf_of(page.text), "text": text, **extra})
    if r.status_code == 303:
        shown = await client.get(r.headers["location"])
        return shown.status_code, shown.text
    return r.status_code, r.text


async def count(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(TriageAssessment)))


async def test_a_complaint_leads_to_departments_and_a_stroke_to_the_emergency(client, world, session):
    await login(client, "q0")
    home = await client.get("/")
    assert 'href="/triage"' in home.text
    status, html = await ask(client, "牙疼了三天，牙龈也肿了")
    assert status == 200 and 'data-code="STOM"' in html and 'id="emergency"' not in html
    status, html = await ask(client, "我爸突然嘴歪了，说话也说不清楚")
    assert status == 200 and 'id="emergency"' in html and 'href="tel:120"' in html
    assert 'class="card department"' not in html and 'id="handover-submit"' not in html
    assert await count(session) == 2


async def test_the_form_refuses_bad_input_and_stores_nothing(client, world, session):
    await login(client, "q0")
    for text in ("", "头" * 3000):
        status, html = await ask(client, text)
        assert status == 422 and 'id="triage-error"' in html
    page = await client.get("/triage")
    assert (await client.post("/triage", data={"text": "头痛"})).status_code == 403  # no CSRF token
    r = await client.post(
        "/triage", data={"csrf": csrf_of(page.text), "text": "头痛<script>alert(1)</script>"}
    )
    shown = await client.get(r.headers["location"])
    assert "<script>alert(1)</script>" not in shown.text and "&lt;script&gt;" in shown.text
    assert await count(session) == 1


@pytest.mark.parametrize(
    ("locale", "asked_again"), [("zh-CN", "请用几个词说说哪里不舒服"), ("en", "Describe your symptoms")]
)
async def test_gibberish_is_asked_again_in_the_pages_language_not_given_a_department(
    client, world, session, locale, asked_again
):
    await login(client, "q0")
    client.headers["accept-language"] = locale
    for text in ("asdfghjkl", "qwerty uiop", "哈哈哈"):
        status, html = await ask(client, text)
        assert status == 422 and asked_again in html and 'class="card department"' not in html, text
        assert f">{text}</textarea>" in html  # what was typed stays in the box
    assert await count(session) == 0


@pytest.mark.parametrize(
    ("locale", "text", "department", "flag", "foreign"),
    [
        ("en", "牙疼了三天，牙龈也肿了", "Stomatology", None, "口腔"),
        ("en", "胸口痛得厉害，出冷汗", None, "chest", "胸痛"),
        ("zh-CN", "I have had a toothache for three days", "口腔", None, "Stomatology"),
    ],
)
async def test_the_answer_is_in_the_pages_language_whatever_the_complaints(
    client, world, locale, text, department, flag, foreign
):
    await login(client, "q0")
    client.headers["accept-language"] = locale
    status, html = await ask(client, text)
    assert status == 200
    answer = html.split("<main", 1)[1]
    if department:
        assert department in answer
    else:
        assert 'id="emergency"' in answer and flag in answer.lower()
    assert foreign not in answer.replace(text, "")  # nothing in the other language but the complaint itself


async def test_unsure_asks_questions_and_the_answers_decide(client, world):
    await login(client, "q0")
    status, html = await ask(client, "不舒服")
    assert status == 200
    if 'id="questions"' in html:
        assert 'name="answer_duration"' in html
        page = await client.get("/triage")
        r = await client.post(
            "/triage",
            data={
                "csrf": csrf_of(page.text),
                "text": "不舒服",
                "answer_duration": "days",
                "answer_fever": "yes",
                "answer_body": "throat_neck",
            },
        )
        again = await client.get(r.headers["location"])
        assert 'id="questions"' not in again.text


async def test_elderly_mode_offers_the_body_map_and_a_short_list(client, world):
    await login(client, "q0")
    page = await client.get("/triage")
    await client.post("/prefs/elderly", data={"csrf": csrf_of(page.text), "on": "1", "next": "/triage"})
    elderly = await client.get("/triage")
    assert 'class="elderly"' in elderly.text and 'id="region-mouth_teeth"' in elderly.text
    assert elderly.text.index('class="bodymap"') < elderly.text.index('id="triage-form"')  # the map first
    region = await client.get("/triage?body=mouth_teeth")
    tiles = re.findall(r'data-complaint="([^"]+)"', region.text)
    assert 1 <= len(tiles) <= 8
    r = await client.post(
        "/triage", data={"csrf": csrf_of(region.text), "complaint": tiles[0], "body_part": "mouth_teeth"}
    )
    shown = await client.get(r.headers["location"])
    assert 'data-code="STOM"' in shown.text


async def test_talk_to_a_person_and_the_service_desk_answers(client, world, session):
    await login(client, "q0")
    status, html = await ask(client, "说不上来哪里不舒服")
    aid = re.search(r'name="assessment" value="([^"]+)"', html).group(1)
    r = await client.post("/triage/handover", data={"csrf": csrf_of(html), "assessment": aid})
    assert r.status_code == 303 and r.headers["location"].startswith("/triage/handover/")
    chat = r.headers["location"]
    assert (await client.get("/triage/desk")).status_code == 403
    await client.post("/logout", data={"csrf": csrf_of((await client.get(chat)).text)})
    await login(client, "desk")
    queue = await client.get("/triage/desk")
    assert queue.status_code == 200 and "说不上来哪里不舒服" in queue.text
    hid = chat.rsplit("/", 1)[1]
    await client.post(f"/triage/desk/{hid}/take", data={"csrf": csrf_of(queue.text)})
    page = await client.get(f"/triage/desk/{hid}")
    await client.post(
        f"/triage/desk/{hid}/message", data={"csrf": csrf_of(page.text), "text": "请挂全科医学科"}
    )
    assert "请挂全科医学科" in (await client.get(f"/triage/desk/{hid}")).text
    # closed with the department to go to: the patient's page offers to book it (it only named it)
    closed = await client.post(
        f"/triage/desk/{hid}/close", data={"csrf": csrf_of(page.text), "department": "IM"}
    )
    assert closed.status_code == 303
    await client.post("/logout", data={"csrf": csrf_of(page.text)})
    await login(client, "q0")
    mine = await client.get(chat)
    im = await session.scalar(select(Department.id).where(Department.code == "IM"))
    assert f'id="handover-book" href="/book?department={im}"' in mine.text


async def test_the_doctor_sees_the_triage_and_names_the_right_department(client, world, session):
    await login(client, "q0")
    await ask(client, "最近老是头晕，走路不稳")
    await client.post(f"/api/v1/queue/bookings/{world.b[0].id}/arrive", headers=world.h[0])
    await client.post(
        f"/api/v1/queue/sessions/{world.cs.id}/actions", headers=world.doc, json={"action": "call_next"}
    )
    await login(client, "doc")
    page = await client.get(f"/queue/doctor/{world.cs.id}")
    assert page.status_code == 200 and 'id="triage-note"' in page.text and "最近老是头晕" in page.text
    aid = re.search(r'action="/triage/([0-9a-f-]+)/reassign"', page.text).group(1)
    r = await client.post(
        f"/triage/{aid}/reassign",
        data={"csrf": csrf_of(page.text), "department": "IM", "next": f"/queue/doctor/{world.cs.id}"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/queue/doctor/{world.cs.id}"
    row = await session.get(TriageAssessment, uuid.UUID(aid))
    await session.refresh(row)
    assert row.reassigned_code == "IM"


async def test_a_mangled_family_member_is_refused_not_replaced_by_oneself(client, world, session):
    await login(client, "q0")
    status, _ = await ask(client, "头痛", patient="not-a-uuid")
    assert status == 404 and await count(session) == 0


@pytest.mark.parametrize(("locale", "heading"), [("zh-CN", "就诊人"), ("en", "Patient")])
async def test_the_emergency_review_names_the_patient_and_how_to_reach_them(client, world, locale, heading):
    """Issue 16, item 10: the review list showed the complaint but not who wrote it or how to call them."""
    await login(client, "q0")
    status, html = await ask(client, "我爸突然嘴歪了，说话也说不清楚")
    assert 'id="emergency"' in html
    client.cookies.clear()
    await login(client, "doc")
    page = await client.get("/triage/emergencies", headers={"accept-language": locale})
    assert page.status_code == 200 and f"<th>{heading}</th>" in page.text
    row = page.text.split("<tbody>", 1)[1]
    assert "排队0" in row and 'href="tel:13900000700"' in row


async def test_the_chat_shows_replies_without_a_refresh(live_app, monkeypatch):
    """Issue 16: the patient had to refresh the page to see the service desk's answer. The page follows a
    stream that sends the messages again whenever one is written (and reloads when the status changes)."""
    monkeypatch.setattr(get_settings(), "queue_stream_seconds", 2)
    monkeypatch.setattr(get_settings(), "queue_poll_seconds", 0.05)
    client = live_app.client
    async with live_app.db.sessionmaker() as s:
        await make_world(s)
    await login(client, "q0")
    status, html = await ask(client, "说不上来哪里不舒服")
    aid = re.search(r'name="assessment" value="([^"]+)"', html).group(1)
    chat = (await client.post("/triage/handover", data={"csrf": csrf_of(html), "assessment": aid})).headers[
        "location"
    ]
    hid = chat.rsplit("/", 1)[1]
    agent = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await login(agent, "desk")
    desk = await agent.get(f"/triage/desk/{hid}")
    await agent.post(f"/triage/desk/{hid}/take", data={"csrf": csrf_of(desk.text)})
    page = await client.get(chat)  # the patient's page, the conversation taken
    assert 'src="/static/zhiyi-live.js"' in page.text and ">Refresh<" not in page.text
    events = re.search(r'data-events="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    shown, real = asyncio.Event(), handover.my_handover
    calls = []

    async def spy(*args, **kwargs):  # the route's own check, then the stream's first message
        answer = await real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            shown.set()
        return answer

    monkeypatch.setattr(handover, "my_handover", spy)
    following = asyncio.create_task(client.get(events))  # the open page's stream (it ends after 2 s)
    await asyncio.wait_for(shown.wait(), 5)
    await agent.post(
        f"/triage/desk/{hid}/message", data={"csrf": csrf_of(desk.text), "text": "请挂全科医学科"}
    )
    await agent.aclose()
    sent = [json.loads(x[6:]) for x in (await following).text.splitlines() if x.startswith("data: ")]
    assert "请挂全科医学科" not in sent[0]["html"]  # as the page showed it
    assert any("请挂全科医学科" in e.get("html", "") for e in sent[1:])  # then the reply, without a refresh
