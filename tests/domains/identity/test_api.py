"""Login (OAuth2 password flow), throttling, refresh rotation, phone sign-up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core import clock
from zhiyi.domains.identity.models import Account
from zhiyi.domains.patients.models import Patient


@pytest.fixture
async def alice(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=main, name="李丽", phone="13900000011")
    acct = await accounts.account(session, username="alice", roles={"patient"}, patient=p)
    await session.commit()
    return acct


async def login(client, username, password):
    return await client.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_password_login_issues_tokens_that_work(client, alice):
    r = await login(client, "alice", accounts.PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["roles"] == ["patient"]


async def test_wrong_password_is_401_with_error_shape(client, alice):
    r = await login(client, "alice", "wrong-password-1")
    assert r.status_code == 401
    assert set(r.json()) == {"code", "message", "errors", "request_id"}
    assert r.json()["code"] == "login_failed"


async def test_login_is_throttled_after_repeated_failures(client, alice):
    for _ in range(5):
        assert (await login(client, "alice", "guess-123456")).status_code == 401
    r = await login(client, "alice", accounts.PASSWORD)  # even the right password now waits
    assert r.status_code == 429 and r.json()["code"] == "login_throttled"
    assert int(r.headers["retry-after"]) > 0
    clock.freeze(clock.now() + dt.timedelta(minutes=16))
    try:
        assert (await login(client, "alice", accounts.PASSWORD)).status_code == 200
    finally:
        clock.freeze(None)


async def test_refresh_rotates_and_old_refresh_token_is_rejected(client, alice):
    first = (await login(client, "alice", accounts.PASSWORD)).json()
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    assert r.json()["refresh_token"] != first["refresh_token"]
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401


async def test_expired_access_token_is_rejected(client, alice):
    token = (await login(client, "alice", accounts.PASSWORD)).json()["access_token"]
    clock.freeze(clock.now() + dt.timedelta(minutes=16))
    try:
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        clock.freeze(None)
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_patient_signs_up_with_a_verified_phone(client, session, sandbox, drain):
    await orgf.campus(session, code="MAIN", is_main=True)
    await session.commit()
    phone = "13712345678"
    assert (await client.post("/api/v1/auth/signup/code", json={"phone": phone})).status_code == 202
    assert sandbox.last_to(phone) is None  # sent only once the request has committed
    await drain()
    code = sandbox.last_to(phone).params["code"]
    # asking again within a minute is refused
    assert (await client.post("/api/v1/auth/signup/code", json={"phone": phone})).status_code == 429
    body = {
        "phone": phone,
        "code": code,
        "password": "Kite-Lamp-4821",
        "name": "赵敏",
        "id_number": pf.id_number(age=33),
    }
    wrong = await client.post(
        "/api/v1/auth/signup", json={**body, "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "verification_failed"
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["roles"] == ["patient"]
    patient = await session.scalar(select(Patient).where(Patient.phone == phone))
    assert patient is not None and patient.verified_at is not None
    assert (await login(client, phone, "Kite-Lamp-4821")).status_code == 200
    # the code is single-use
    again = await client.post("/api/v1/auth/signup", json={**body, "id_number": pf.id_number(age=34)})
    assert again.status_code in (409, 422)


async def test_preferences_are_remembered(client, alice):
    token = (await login(client, "alice", accounts.PASSWORD)).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    r = await client.patch("/api/v1/me/preferences", headers=h, json={"locale": "en", "elderly_mode": True})
    assert r.status_code == 200
    me = (await client.get("/api/v1/me", headers=h)).json()
    assert me["locale"] == "en" and me["elderly_mode"] is True
    bad = await client.patch("/api/v1/me/preferences", headers=h, json={"locale": "fr"})
    assert bad.status_code == 422


async def test_account_count_unchanged_by_failed_signup(client, session, sandbox):
    await orgf.campus(session, code="MAIN", is_main=True)
    await session.commit()
    before = await session.scalar(select(func.count()).select_from(Account))
    r = await client.post(
        "/api/v1/auth/signup",
        json={
            "phone": "13712340000",
            "code": "123456",
            "password": "Kite-Lamp-4821",
            "name": "赵敏",
            "id_number": "11010519491231002X",
        },
    )
    assert r.status_code == 422
    assert await session.scalar(select(func.count()).select_from(Account)) == before
