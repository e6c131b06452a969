"""Issue 15, item 5: the answers never tell a stranger whether a phone number, an account or an ID number
is registered here."""

from __future__ import annotations

import pytest

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf


@pytest.fixture
async def known(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=main, name="钱多多", phone="13611110001")
    acct = await accounts.account(session, username="qian", roles={"patient"}, patient=p)
    acct.phone = "13611110001"  # signed up with it
    await session.commit()
    return p


async def test_asking_a_sign_up_code_answers_alike_and_sends_alike(client, known, sandbox, drain):
    registered = await client.post("/api/v1/auth/signup/code", json={"phone": "13611110001"})
    fresh = await client.post("/api/v1/auth/signup/code", json={"phone": "13611110002"})
    assert registered.status_code == fresh.status_code == 202 and registered.json() == fresh.json()
    assert "if" in fresh.json()["message"].lower() or "如果" in fresh.json()["message"]
    await drain()
    assert sandbox.last_to("13611110001") is not None and sandbox.last_to("13611110002") is not None


async def test_signing_up_without_the_code_answers_alike(client, known):
    body = {"code": "123456", "password": "Kite-Lamp-4821", "name": "赵敏", "id_number": pf.id_number(age=33)}
    registered = await client.post("/api/v1/auth/signup", json={**body, "phone": "13611110001"})
    fresh = await client.post("/api/v1/auth/signup", json={**body, "phone": "13611110003"})
    assert registered.status_code == fresh.status_code == 422
    assert registered.json()["code"] == fresh.json()["code"] == "verification_failed"


async def test_the_phone_owner_with_the_code_learns_they_have_an_account(client, known, sandbox, drain):
    await client.post("/api/v1/auth/signup/code", json={"phone": "13611110001"})
    await drain()
    code = sandbox.last_to("13611110001").params["code"]
    r = await client.post(
        "/api/v1/auth/signup",
        json={
            "phone": "13611110001",
            "code": code,
            "password": "Kite-Lamp-4821",
            "name": "钱多多",
            "id_number": pf.id_number(age=33),
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "account_exists"


async def test_asking_a_sign_in_code_answers_alike(client, known, sandbox, drain):
    answers = [
        await client.post("/api/v1/auth/login-code", json={"login": name})
        for name in ("qian", "nobody-here", "qian", "13611110001")
    ]  # twice: a throttled resend looks the same
    assert {r.status_code for r in answers} == {202} and len({r.text for r in answers}) == 1
    await drain()
    assert sandbox.last_to("13611110001").template == "otp.login"


async def test_linking_an_adult_answers_alike_whether_registered_or_not(client, known, session):
    me = await pf.patient(
        session, campus=await orgf.campus(session, code="EAST"), name="吴一", phone="13655550001"
    )
    acct = await accounts.account(session, username="wu-enum", roles={"patient"}, patient=me)
    h = await accounts.bearer(session, acct)
    await session.commit()
    registered = await client.post(
        "/api/v1/patients/me/dependents",
        headers=h,
        json={"name": "别的名字", "id_number": pf.security_id(known), "relationship": "parent"},
    )
    unknown = await client.post(
        "/api/v1/patients/me/dependents",
        headers=h,
        json={"name": "别的名字", "id_number": pf.id_number(age=70), "relationship": "parent"},
    )
    assert registered.status_code == unknown.status_code == 422
    assert registered.json()["code"] == unknown.json()["code"]
    assert registered.json()["message"] == unknown.json()["message"]


async def test_a_wrong_password_and_an_unknown_name_answer_alike(client, known):
    wrong = await client.post("/api/v1/auth/token", data={"username": "qian", "password": "not-it-at-all-9"})
    nobody = await client.post(
        "/api/v1/auth/token", data={"username": "nobody-9", "password": "not-it-at-all-9"}
    )
    assert wrong.status_code == nobody.status_code == 401
    assert {k: v for k, v in wrong.json().items() if k != "request_id"} == {
        k: v for k, v in nobody.json().items() if k != "request_id"
    }
