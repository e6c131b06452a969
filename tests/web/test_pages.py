"""Pages through the HTTP client: login with CSRF, language, elderly mode, portal, staff, admin."""

from __future__ import annotations

import re
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.domains.identity.models import Account


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    alice_p = await pf.patient(session, campus=main, name="李丽", phone="13900000031")
    bob_p = await pf.patient(session, campus=main, name="王强", phone="13900000032")
    await accounts.account(session, username="alice", roles={"patient"}, patient=alice_p)
    await accounts.account(session, username="bob", roles={"patient"}, patient=bob_p)
    await accounts.account(session, username="nurse", roles={"nurse"}, campuses=[main])
    await accounts.account(session, username="admin", roles={"admin"}, group_wide=True)
    await accounts.account(session, username="desk", roles={"registrar"}, campuses=[main])
    await session.commit()
    return SimpleNamespace(alice_p=alice_p, bob_p=bob_p)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def web_login(client, username: str, password: str = accounts.PASSWORD, next_: str = "/"):
    page = await client.get("/login")
    return await client.post(
        "/login", data={"username": username, "password": password, "next": next_, "csrf": csrf_of(page.text)}
    )


async def test_login_page_then_portal(client, world):
    r = await web_login(client, "alice", next_="/portal")
    assert r.status_code == 303 and r.headers["location"] == "/portal"
    portal = await client.get("/portal")
    assert portal.status_code == 200 and "我的健康" in portal.text or "My health" in portal.text
    record = await client.get("/portal/record")
    assert "李丽" in record.text


async def test_login_without_csrf_is_refused(client, world):
    await client.get("/login")
    r = await client.post("/login", data={"username": "alice", "password": accounts.PASSWORD})
    assert r.status_code == 403
    assert (await client.get("/portal")).status_code == 303  # still anonymous: sent to /login


async def test_wrong_password_shows_error_in_the_users_language(client, world):
    page = await client.get("/login", headers={"accept-language": "en"})
    r = await client.post(
        "/login",
        headers={"accept-language": "en"},
        data={"username": "alice", "password": "nope-nope-1", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 401 and "Wrong username or password." in r.text


async def test_open_redirect_is_not_followed(client, world):
    r = await web_login(client, "alice", next_="//evil.example/steal")
    assert r.headers["location"] == "/"


async def test_language_switch_changes_page_text(client, world):
    zh = await client.get("/login")
    assert 'lang="zh-CN"' in zh.text
    r = await client.post("/prefs/lang", data={"locale": "en", "next": "/login", "csrf": csrf_of(zh.text)})
    assert r.status_code == 303
    en = await client.get("/login")
    assert 'lang="en"' in en.text and "Password" in en.text


async def test_elderly_mode_is_remembered_per_user(client, world):
    await web_login(client, "alice")
    home = await client.get("/")
    assert 'class="elderly"' not in home.text
    await client.post("/prefs/elderly", data={"on": "1", "next": "/", "csrf": csrf_of(home.text)})
    assert 'class="elderly"' in (await client.get("/")).text
    # log out, log in again: the account remembers
    await client.post("/logout", data={"csrf": csrf_of((await client.get("/")).text)})
    client.cookies.clear()
    await web_login(client, "alice")
    assert 'class="elderly"' in (await client.get("/portal")).text


async def test_patient_cannot_open_another_patients_record_page(client, world):
    await web_login(client, "alice")
    r = await client.get(f"/portal/record?patient={world.bob_p.id}")
    assert r.status_code == 403 and "王强" not in r.text


async def test_staff_scan_and_admin_audit_pages(client, world):
    await web_login(client, "alice")
    code_page = await client.get("/portal/onecode")
    token = re.search(r'id="onecode-token"[^>]*>([^<]+)<', code_page.text).group(1)
    await client.post("/logout", data={"csrf": csrf_of(code_page.text)})
    client.cookies.clear()
    await web_login(client, "nurse")
    staff = await client.get("/staff")
    found = await client.post("/staff/scan", data={"token": token, "csrf": csrf_of(staff.text)})
    assert found.status_code == 200 and "李丽" in found.text
    client.cookies.clear()
    await web_login(client, "admin")
    trail = await client.get(f"/admin?mrn={world.alice_p.mrn}", follow_redirects=True)
    assert trail.status_code == 200 and "扫描了一码通" in trail.text and "出示了一码通" in trail.text


async def test_pages_need_login_and_roles(client, world):
    assert (await client.get("/portal")).headers["location"].startswith("/login")
    await web_login(client, "alice")
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/staff")).status_code == 403


async def test_registrar_registers_and_finds_a_patient_at_the_desk(client, world, session):
    await web_login(client, "desk")
    page = await client.get("/desk")
    assert page.status_code == 200
    bad = await client.post(
        "/desk/register", data={"name": "周杰", "id_number": "110105194912310021", "csrf": csrf_of(page.text)}
    )
    assert bad.status_code == 422
    number = pf.id_number(age=66)
    r = await client.post(
        "/desk/register",
        data={
            "name": "周杰",
            "id_number": number,
            "phone": "13566667777",
            "insurance_type": "urban_employee",
            "csrf": csrf_of(page.text),
        },
    )
    assert r.status_code == 200 and 'id="desk-created"' in r.text
    found = await client.get("/desk?name=周")
    assert "周杰" in found.text and "13566667777" in found.text
    injected = await client.post(
        "/desk/register",
        data={"name": "<script>x</script>", "id_number": pf.id_number(), "csrf": csrf_of(page.text)},
    )
    assert injected.status_code == 422 and "<script>x" not in injected.text


async def test_admin_sees_accounts_and_others_do_not(client, world):
    await web_login(client, "nurse")
    assert (await client.get("/admin/accounts")).status_code == 403
    client.cookies.clear()
    await web_login(client, "admin")
    r = await client.get("/admin/accounts")
    assert r.status_code == 200 and 'data-account="desk"' in r.text and "挂号员" in r.text
    assert 'data-account="alice"' not in r.text  # patients' accounts are not staff accounts
    assert 'id="new-password"' not in r.text  # no password is shown but the one just made


async def test_a_throttled_login_page_offers_a_code_and_keeps_the_name_not_the_password(
    client, world, session, sandbox, drain
):
    """Issue 15, item 7 on the page: after the address's free tries the page says how long to wait and
    offers a code by SMS; with the code the owner is in."""
    alice = await session.scalar(select(Account).where(Account.username == "alice"))
    alice.phone = "13900000031"
    await session.commit()
    for _ in range(5):
        await web_login(client, "alice", password="not-it-Zq-1")
    page = await client.get("/login", headers={"accept-language": "en"})
    r = await client.post(
        "/login",
        headers={"accept-language": "en"},
        data={"username": "alice", "password": accounts.PASSWORD, "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 429 and "wait" in r.text and 'id="code"' in r.text
    assert 'value="alice"' in r.text and accounts.PASSWORD not in r.text
    sent = await client.post("/login/code", data={"username": "alice", "csrf": csrf_of(r.text)})
    assert sent.status_code == 200 and 'id="code"' in sent.text
    await drain()
    code = sandbox.last_to("13900000031").params["code"]
    ok = await client.post(
        "/login",
        data={"username": "alice", "password": accounts.PASSWORD, "code": code, "csrf": csrf_of(sent.text)},
    )
    assert ok.status_code == 303


@pytest.mark.parametrize(
    ("lang", "absent"), [("zh-CN", ("缴费", "取药", "无需排队")), ("en", ("pay", "medicine"))]
)
async def test_the_home_page_promises_only_what_works_today(client, lang, absent):
    """Issue 16, item 6: no paying or medicines (they arrive with billing and pharmacy)."""
    text = (await client.get("/", headers={"accept-language": lang})).text
    assert not [word for word in absent if word in text]


@pytest.mark.parametrize(
    ("lang", "front", "back", "wrong"),
    [("zh-CN", "正面", "背面", "上一步"), ("en", "Front of the body", "Back of the body", None)],
)
async def test_the_body_map_names_its_sides(client, world, lang, front, back, wrong):
    """Issue 16, item 7: the back of the body was captioned "上一步" (the questionnaire's "Back" button)."""
    await web_login(client, "alice")
    page = await client.get("/triage", headers={"accept-language": lang})
    bodymap = page.text[page.text.index('class="bodymap"') :]
    bodymap = bodymap[: bodymap.index("</div>")] if "</div>" in bodymap else bodymap
    assert front in page.text and back in page.text
    assert wrong is None or wrong not in bodymap


async def test_an_admin_may_scan_the_one_code_as_doctors_do(client, world, session):
    """Issue 16: admins reached the scan page but the policy refused them (403)."""
    await web_login(client, "alice")
    code_page = await client.get("/portal/onecode")
    token = re.search(r'id="onecode-token"[^>]*>([^<]+)<', code_page.text).group(1)
    client.cookies.clear()
    await web_login(client, "admin")
    staff = await client.get("/staff")
    found = await client.post("/staff/scan", data={"token": token, "csrf": csrf_of(staff.text)})
    assert found.status_code == 200 and "李丽" in found.text


async def test_logging_out_on_one_device_leaves_the_others_signed_in(app, client, world):
    """Issue 16: logging out on the phone logged the account out on every device. Now it ends that
    device's sign-in only, and a copy of its cookie stops working with it."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as tablet:
        assert (await web_login(client, "alice")).status_code == 303
        assert (await web_login(tablet, "alice")).status_code == 303
        copied = dict(client.cookies)
        page = await client.get("/portal")
        assert page.status_code == 200
        assert (await client.post("/logout", data={"csrf": csrf_of(page.text)})).status_code == 303
        assert (await tablet.get("/portal")).status_code == 200  # the other device is still signed in
        client.cookies.clear()
        client.cookies.update(copied)  # the phone's old cookie, replayed
        assert (await client.get("/portal")).headers["location"].startswith("/login")
