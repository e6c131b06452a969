"""Issue 15, item 7: a stranger who knows a username cannot keep its owner out (back-off by address,
never a lock; the owner signs in with a code sent to their phone), and common or personal passwords
are refused."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core import clock
from zhiyi.domains.identity import service as identity

TOKEN = "/api/v1/auth/token"


@pytest.fixture
async def owner(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=main, name="冯青", phone="13688880001")
    acct = await accounts.account(session, username="feng", roles={"patient"}, patient=p)
    acct.phone = "13688880001"
    await session.commit()
    return acct


@pytest.fixture
async def home(app):
    """The owner, at another address than the stranger's (the test client's 203.0.113.7)."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def guess(client, n: int, name: str = "feng") -> list[int]:
    return [
        (await client.post(TOKEN, data={"username": name, "password": f"guess-{i}-Zq"})).status_code
        for i in range(n)
    ]


async def test_a_stranger_cannot_lock_the_owner_out(client, home, owner, sandbox, drain):
    assert await guess(client, 7) == [401] * 5 + [429] * 2  # the stranger's address waits
    r = await client.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # the owner, from home: the right password asks for the phone's code (the account is under attack)
    r = await home.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD})
    assert (
        r.status_code == 401
        and r.json()["code"] == "second_factor_required"
        and "0001" in r.json()["message"]
    )
    await drain()
    code = sandbox.last_to("13688880001").params["code"]
    assert sandbox.last_to("13688880001").template == "otp.login"
    r = await home.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD, "code": code})
    assert r.status_code == 200 and r.json()["access_token"]


async def test_the_owner_signs_in_with_a_code_even_from_a_waiting_address(client, owner, sandbox, drain):
    await guess(client, 6)
    assert (await client.post("/api/v1/auth/login-code", json={"login": "feng"})).status_code == 202
    await drain()
    code = sandbox.last_to("13688880001").params["code"]
    wrong = await client.post(TOKEN, data={"username": "feng", "password": "guess-x-Zq", "code": code})
    assert wrong.status_code == 401  # a code is not a password: both are needed
    await client.post("/api/v1/auth/login-code", json={"login": "feng"})
    start = clock.now()
    try:
        clock.freeze(start + dt.timedelta(seconds=61))  # a new code may be sent after a minute
        assert (await client.post("/api/v1/auth/login-code", json={"login": "feng"})).status_code == 202
        await drain()
        code = sandbox.last_to("13688880001").params["code"]
        r = await client.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD, "code": code})
        assert r.status_code == 200
    finally:
        clock.freeze(None)


async def test_the_wait_grows_and_ends(client, owner):
    start = clock.now()
    try:
        clock.freeze(start)
        assert await guess(client, 6) == [401] * 5 + [429]
        clock.freeze(start + dt.timedelta(seconds=61))  # the first wait (1 minute) is over: one more try
        assert await guess(client, 2) == [401, 429]
        clock.freeze(start + dt.timedelta(seconds=61 + 90))  # the next wait is 2 minutes: not over
        assert await guess(client, 1) == [429]
        clock.freeze(start + dt.timedelta(minutes=16))  # the window has passed
        r = await client.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD})
        assert r.status_code in (200, 401)  # not held back; under attack in the window it may ask the code
        assert r.status_code != 429
    finally:
        clock.freeze(None)


async def test_guessing_unknown_names_costs_the_same(client, owner):
    assert await guess(client, 6, name="nobody-at-all") == [401] * 5 + [429]


@pytest.mark.parametrize(
    "password",
    [
        "passw0rd",
        "aaaaaaa1",
        "Password1",
        "qwerty123",
        "13688880002a",
        "iloveyou1",
        "abc12345",
        "zhaomin2024",
    ],
)
async def test_common_and_personal_passwords_are_refused(client, password, sandbox, drain, session):
    await orgf.campus(session, code="MAIN", is_main=True)
    await session.commit()
    await client.post("/api/v1/auth/signup/code", json={"phone": "13688880002"})
    await drain()
    code = sandbox.last_to("13688880002").params["code"]
    r = await client.post(
        "/api/v1/auth/signup",
        json={
            "phone": "13688880002",
            "code": code,
            "password": password,
            "name": "Zhao Min",
            "id_number": pf.id_number(age=30),
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "password.weak", (password, r.text)


def test_a_strong_password_passes():
    identity.check_password_strength("Kite-Lamp-4821", personal=("13688880002", "赵敏"))
    with pytest.raises(Exception, match="invalid"):
        identity.check_password_strength("xx13688880002", personal=("13688880002",))


def at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver"
    )


async def test_a_stranger_cannot_burn_the_owners_codes(client, home, owner, sandbox, drain):
    await guess(client, 5)
    r = await home.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD})
    assert r.json()["code"] == "second_factor_required"
    await drain()
    code = sandbox.last_to("13688880001").params["code"]
    for wrong in ("000000", "111111", "222222", "333333", "444444", "555555"):
        if wrong != code:  # the stranger guesses codes, without the password
            r = await client.post(TOKEN, data={"username": "feng", "password": "guess-x-Zq", "code": wrong})
            assert r.status_code in (401, 429)
    r = await home.post(TOKEN, data={"username": "feng", "password": accounts.PASSWORD, "code": code})
    assert r.status_code == 200


async def test_sign_in_codes_have_their_own_hourly_quota(client, owner, sandbox, drain):
    start = clock.now()
    try:
        for i in range(12):  # a stranger asks for the owner's codes, once a minute
            clock.freeze(start + dt.timedelta(minutes=i + 1))
            assert (await client.post("/api/v1/auth/login-code", json={"login": "feng"})).status_code == 202
        # sign-up's answer for the number is the one any number gets (its quota is its own)
        r = await client.post("/api/v1/auth/signup/code", json={"phone": "13688880001"})
        fresh = await client.post("/api/v1/auth/signup/code", json={"phone": "13688880009"})
        assert r.status_code == fresh.status_code == 202 and r.json() == fresh.json()
        await drain()
        sandbox.outbox.clear()
        clock.freeze(start + dt.timedelta(minutes=75))  # an hour later the owner gets one again
        assert (await client.post("/api/v1/auth/login-code", json={"login": "feng"})).status_code == 202
        await drain()
        assert sandbox.last_to("13688880001").template == "otp.login"
    finally:
        clock.freeze(None)


async def test_an_account_without_a_phone_is_not_guessed_from_many_addresses(app, session):
    """No second factor to fall back on: its failures from anywhere make every address wait."""
    await accounts.account(session, username="ops-root", roles={"admin"}, group_wide=True)
    await session.commit()
    codes = []
    for n in range(12):
        async with at(app, f"2001:db8::{n + 1}") as c:
            codes += [
                (
                    await c.post(TOKEN, data={"username": "ops-root", "password": f"try-{n}-{i}-Zq"})
                ).status_code
                for i in range(2)
            ]
    assert 429 in codes and codes[:5] == [401] * 5
    async with at(app, "2001:db8::99") as c:
        assert (
            await c.post(TOKEN, data={"username": "ops-root", "password": accounts.PASSWORD})
        ).status_code == 429


async def test_a_deleted_patient_account_may_sign_up_again(client, session, sandbox, drain):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    admin = await accounts.account(session, username="del-admin", roles={"admin"}, group_wide=True)
    admin_h = await accounts.bearer(session, admin)
    await session.commit()
    number = pf.id_number(age=30)
    body = {
        "phone": "13688880005",
        "password": "Kite-Lamp-4821",
        "name": "韩梅",
        "id_number": number,
        "campus_code": main.code,
    }
    await client.post("/api/v1/auth/signup/code", json={"phone": "13688880005"})
    await drain()
    first = await client.post(
        "/api/v1/auth/signup", json={**body, "code": sandbox.last_to("13688880005").params["code"]}
    )
    assert first.status_code == 201
    assert (await client.delete(f"/api/v1/accounts/{first.json()['id']}", headers=admin_h)).status_code == 204
    start = clock.now()
    try:
        clock.freeze(start + dt.timedelta(minutes=2))
        await client.post("/api/v1/auth/signup/code", json={"phone": "13688880005"})
        await drain()
        again = await client.post(
            "/api/v1/auth/signup", json={**body, "code": sandbox.last_to("13688880005").params["code"]}
        )
    finally:
        clock.freeze(None)
    assert again.status_code == 201 and again.json()["patient_id"] == first.json()["patient_id"]
