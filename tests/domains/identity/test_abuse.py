"""Abuse cases: account takeover, guessing codes, racing refresh tokens and logins,
replaying a logged-out session."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.domains.identity.models import Account
from zhiyi.domains.patients.models import Patient


@pytest.fixture
async def main_campus(session):
    c = await orgf.campus(session, code="MAIN", is_main=True)
    await session.commit()
    return c


async def send_code(client, drain, sandbox, phone: str) -> str:
    assert (await client.post("/api/v1/auth/signup/code", json={"phone": phone})).status_code == 202
    await drain()
    return sandbox.last_to(phone).params["code"]


async def test_knowing_name_and_id_number_does_not_take_over_a_record(
    client, session, main_campus, sandbox, drain
):
    victim = await pf.patient(session, campus=main_campus, name="钱多多", phone="13611111111")
    await session.commit()
    number = pf.security_id(victim)
    code = await send_code(client, drain, sandbox, "13722222222")
    r = await client.post(
        "/api/v1/auth/signup",
        json={
            "phone": "13722222222",
            "code": code,
            "password": "Kite-Lamp-4821",
            "name": "钱多多",
            "id_number": number,
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "patient_claim_refused"
    refreshed = await session.scalar(
        select(Patient).where(Patient.id == victim.id).execution_options(populate_existing=True)
    )
    assert refreshed.phone == "13611111111"
    assert await session.scalar(select(Account).where(Account.patient_id == victim.id)) is None


async def test_the_owner_claims_a_desk_record_with_the_phone_on_it(
    client, session, main_campus, sandbox, drain
):
    owner = await pf.patient(session, campus=main_campus, name="孙悟", phone="13633333333", verified=False)
    await session.commit()
    code = await send_code(client, drain, sandbox, "13633333333")
    body = {
        "phone": "13633333333",
        "code": code,
        "password": "Kite-Lamp-4821",
        "name": "孙悟",
        "id_number": pf.security_id(owner),
    }
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 201 and r.json()["patient_id"] == str(owner.id)


async def test_wrong_signup_codes_are_counted_until_the_code_dies(client, main_campus, sandbox, drain):
    code = await send_code(client, drain, sandbox, "13744444444")
    wrong = "000000" if code != "000000" else "111111"
    body = {
        "phone": "13744444444",
        "password": "Kite-Lamp-4821",
        "name": "周周",
        "id_number": pf.id_number(age=30),
    }
    for _ in range(5):
        assert (await client.post("/api/v1/auth/signup", json={**body, "code": wrong})).status_code == 422
    r = await client.post("/api/v1/auth/signup", json={**body, "code": code})
    assert r.status_code == 422 and r.json()["code"] == "verification_failed"


async def test_wrong_proxy_codes_are_counted(client, session, main_campus, sandbox, drain):
    me = await pf.patient(session, campus=main_campus, name="吴一", phone="13655555551")
    elder = await pf.patient(session, campus=main_campus, name="吴老", age=80, phone="13655555552")
    acct = await accounts.account(session, username="wu", roles={"patient"}, patient=me)
    await session.commit()
    h = await accounts.bearer(session, acct)
    await session.commit()
    link = (
        await client.post(
            "/api/v1/patients/me/dependents",
            headers=h,
            json={"name": "吴老", "id_number": pf.security_id(elder), "relationship": "parent"},
        )
    ).json()
    await drain()
    code = sandbox.last_to("13655555552").params["code"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = await client.post(
            f"/api/v1/patients/me/dependents/{link['id']}/confirm", headers=h, json={"code": wrong}
        )
        assert r.status_code == 422
    r = await client.post(
        f"/api/v1/patients/me/dependents/{link['id']}/confirm", headers=h, json={"code": code}
    )
    assert r.status_code == 422 and r.json()["code"] == "proxy_code_invalid"


async def test_signup_codes_per_phone_are_capped(client, main_campus, session):
    import datetime as dt

    from zhiyi.core import clock

    start = clock.now()
    try:
        for i in range(10):
            clock.freeze(start + dt.timedelta(minutes=2 * i))
            assert (
                await client.post("/api/v1/auth/signup/code", json={"phone": "13766666666"})
            ).status_code == 202
        clock.freeze(start + dt.timedelta(minutes=30))
        assert (
            await client.post("/api/v1/auth/signup/code", json={"phone": "13766666666"})
        ).status_code == 429
    finally:
        clock.freeze(None)


async def test_logged_out_cookie_cannot_be_replayed(client, session, main_campus):
    p = await pf.patient(session, campus=main_campus, name="郑和")
    await accounts.account(session, username="zheng", roles={"patient"}, patient=p)
    await session.commit()
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    await client.post("/login", data={"username": "zheng", "password": accounts.PASSWORD, "csrf": csrf})
    stolen = dict(client.cookies)
    assert (await client.get("/portal/record")).status_code == 200
    home = await client.get("/")
    await client.post("/logout", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)})
    client.cookies.clear()
    client.cookies.update(stolen)
    assert (await client.get("/portal/record")).status_code == 303


# --- races, on a real database with its own connections -----------------------------------


@pytest.fixture
async def live(live_app):
    async with live_app.db.sessionmaker() as s:
        campus = await orgf.campus(s, code="MAIN", is_main=True)
        p = await pf.patient(s, campus=campus, name="竞态")
        await accounts.account(s, username="racer", roles={"patient"}, patient=p)
        await s.commit()
    return live_app.client


async def test_a_refresh_token_works_once_however_many_race(live):
    first = (
        await live.post("/api/v1/auth/token", data={"username": "racer", "password": accounts.PASSWORD})
    ).json()
    results = await asyncio.gather(
        *[live.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}) for _ in range(6)]
    )
    assert sorted(r.status_code for r in results) == [200] + [401] * 5


async def test_parallel_guesses_do_not_slip_past_the_throttle(live):
    results = await asyncio.gather(
        *[
            live.post("/api/v1/auth/token", data={"username": "racer", "password": f"guess-{i}1"})
            for i in range(15)
        ]
    )
    codes = [r.status_code for r in results]
    assert codes.count(401) == 5 and codes.count(429) == 10
