"""Issue 15, item 2: an access token works only while its account and its sign-in stand. Disabling,
deleting, a role change, signing out and a reused refresh token end it at once, in every process,
on every path that takes a token (the rush lane's included)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.app import create_app
from zhiyi.core.audit import AuditEvent
from zhiyi.core.db import Database
from zhiyi.domains.identity import service as identity
from zhiyi.domains.identity.models import Account
from zhiyi.domains.scheduling.rush import own_booking

ME = "/api/v1/me"


@pytest.fixture
async def people(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    p = await pf.patient(session, campus=main, name="李丽", phone="13900000021")
    alice = await accounts.account(session, username="alice-rev", roles={"patient"}, patient=p)
    nurse = await accounts.account(session, username="nurse-rev", roles={"nurse"}, campuses=[main])
    await accounts.account(session, username="desk-rev", roles={"registrar"}, campuses=[main])
    admin = await accounts.account(session, username="admin-rev", roles={"admin"}, campuses=[main])
    await session.commit()
    return alice, nurse, admin, p


async def sign_in(client, username: str) -> dict:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": accounts.PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(pair: dict) -> dict:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def test_a_disabled_account_loses_access_at_once(client, people):
    alice, _, admin, _ = people
    pair, boss = await sign_in(client, "alice-rev"), bearer(await sign_in(client, "admin-rev"))
    assert (await client.get(ME, headers=bearer(pair))).status_code == 200
    r = await client.patch(f"/api/v1/accounts/{alice.id}", json={"is_active": False}, headers=boss)
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = await client.get(ME, headers=bearer(pair))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401
    assert (
        await client.post("/api/v1/auth/token", data={"username": "alice-rev", "password": accounts.PASSWORD})
    ).status_code == 401
    # enabled again, she signs in again (the old tokens stay dead)
    assert (
        await client.patch(f"/api/v1/accounts/{alice.id}", json={"is_active": True}, headers=boss)
    ).status_code == 200
    assert (await client.get(ME, headers=bearer(pair))).status_code == 401
    assert (await client.get(ME, headers=bearer(await sign_in(client, "alice-rev")))).status_code == 200


async def test_a_deleted_account_loses_access_at_once(client, people):
    alice, _, _, _ = people
    pair, boss = await sign_in(client, "alice-rev"), bearer(await sign_in(client, "admin-rev"))
    assert (await client.delete(f"/api/v1/accounts/{alice.id}", headers=boss)).status_code == 204
    assert (await client.get(ME, headers=bearer(pair))).status_code == 401
    assert (
        await client.post("/api/v1/auth/token", data={"username": "alice-rev", "password": accounts.PASSWORD})
    ).status_code == 401
    assert (await client.delete(f"/api/v1/accounts/{alice.id}", headers=boss)).status_code == 404


async def test_a_role_change_ends_tokens_carrying_the_old_roles(client, people, session):
    _, _, _, p = people
    desk = await session.scalar(select(Account).where(Account.username == "desk-rev"))
    pair, boss = await sign_in(client, "desk-rev"), bearer(await sign_in(client, "admin-rev"))
    assert (await client.get(f"/api/v1/patients/{p.id}", headers=bearer(pair))).status_code == 200
    r = await client.patch(f"/api/v1/accounts/{desk.id}", json={"roles": ["executive"]}, headers=boss)
    assert r.status_code == 200 and r.json()["roles"] == ["executive"]
    assert (await client.get(f"/api/v1/patients/{p.id}", headers=bearer(pair))).status_code == 401
    fresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200
    assert (await client.get(ME, headers=bearer(fresh.json()))).json()["roles"] == ["executive"]
    assert (await client.get(f"/api/v1/patients/{p.id}", headers=bearer(fresh.json()))).status_code == 403


async def test_signing_out_ends_that_sign_in_only(client, people):
    phone, laptop = await sign_in(client, "alice-rev"), await sign_in(client, "alice-rev")
    assert (
        await client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    ).status_code == 204
    assert (await client.get(ME, headers=bearer(phone))).status_code == 401
    assert (await client.get(ME, headers=bearer(laptop))).status_code == 200


async def test_a_reused_refresh_token_ends_every_sign_in(client, people):
    first, other = await sign_in(client, "alice-rev"), await sign_in(client, "alice-rev")
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    assert (await client.get(ME, headers=bearer(rotated.json()))).status_code == 200
    assert (await client.get(ME, headers=bearer(first))).status_code == 200  # a rotation keeps the sign-in
    stolen = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert stolen.status_code == 401  # used twice: it leaked
    for pair in (first, rotated.json(), other):
        assert (await client.get(ME, headers=bearer(pair))).status_code == 401


async def test_admins_only_and_never_themselves(client, people):
    alice, nurse, admin, _ = people
    boss, nurse_h = bearer(await sign_in(client, "admin-rev")), bearer(await sign_in(client, "nurse-rev"))
    assert (
        await client.patch(f"/api/v1/accounts/{alice.id}", json={"is_active": False}, headers=nurse_h)
    ).status_code == 403
    r = await client.delete(f"/api/v1/accounts/{admin.id}", headers=boss)
    assert r.status_code == 409 and r.json()["code"] == "own_account"
    r = await client.patch(f"/api/v1/accounts/{alice.id}", json={"roles": ["wizard"]}, headers=boss)
    assert r.status_code == 422
    assert (
        await client.patch(f"/api/v1/accounts/{uuid.uuid4()}", json={"is_active": False}, headers=boss)
    ).status_code == 404


async def test_revocation_reaches_another_server_process_at_once(live_app):
    """Two app processes on one database (as `zhiyi serve --workers 2`): disabled through one, the
    token is refused by the other on its very next request (no cache to wait out)."""
    db, one = live_app.db, live_app.client
    async with db.sessionmaker() as s:
        main = await orgf.campus(s, code="MAIN", is_main=True)
        p = await pf.patient(s, campus=main)
        acct = await accounts.account(s, username="two-procs", roles={"patient"}, patient=p)
        headers = await accounts.bearer(s, acct)
        await s.commit()
    other_db = Database(db.settings)
    transport = httpx.ASGITransport(app=create_app(db.settings, database=other_db))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as two:
            assert (await two.get(ME, headers=headers)).status_code == 200
            async with db.sessionmaker() as s:
                await identity.set_active(s, account_id=acct.id, active=False)
                await s.commit()
            assert (await two.get(ME, headers=headers)).status_code == 401
            assert (await one.get(ME, headers=headers)).status_code == 401
    finally:
        await other_db.dispose()


async def test_the_rush_lane_refuses_a_revoked_token(live_app, backend):
    """The rush lane answers bookings before the framework (PostgreSQL): a disabled patient's token must
    book nothing there either."""
    if backend.name != "postgresql":
        pytest.skip("the rush lane runs on PostgreSQL only")
    db, client = live_app.db, live_app.client
    async with db.sessionmaker() as s:
        campus = await orgf.campus(s, code="RL", is_main=True)
        dept = await orgf.department(s, code="IM.RL")
        doc = await orgf.practitioner(s, department=dept, campuses=[campus])
        cs, _ = await sf.session_with_slots(
            s, practitioner=doc, department=dept, campus=campus, slots=3, starts_in=dt.timedelta(days=2)
        )
        p = await pf.patient(s, campus=campus, verified=True)
        acct = await accounts.account(s, username="lane-rev", roles={"patient"}, patient=p)
        headers = await accounts.bearer(s, acct)
        await s.commit()
    asked = []
    real = own_booking.book

    async def spy(*args, **kwargs):
        asked.append(kwargs)
        return await real(*args, **kwargs)

    try:
        own_booking.book, body = spy, {"session_id": str(cs.id), "channel": "online"}
        async with db.sessionmaker() as s:
            await identity.set_active(s, account_id=acct.id, active=False)
            await s.commit()
        r = await client.post(
            "/api/v1/scheduling/bookings",
            json=body,
            headers={**headers, "Idempotency-Key": "lane-revoked-0001"},
        )
        assert r.status_code == 401 and asked == []  # refused before the one-statement booking was asked
    finally:
        own_booking.book = real


async def test_an_admin_disables_an_account_on_the_page_and_its_web_session_ends(app, client, people):
    """The same at once for pages: the nurse's open web session is refused on her next page."""

    async def web_login(c, username):
        page = await c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert (
            await c.post("/login", data={"username": username, "password": accounts.PASSWORD, "csrf": csrf})
        ).status_code == 303

    _, nurse, _, _ = people
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as nurse_browser:
        await web_login(nurse_browser, "nurse-rev")
        assert (await nurse_browser.get("/staff")).status_code == 200
        await web_login(client, "admin-rev")
        page = await client.get("/admin/accounts")
        assert 'data-account="nurse-rev"' in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = await client.post(f"/admin/accounts/{nurse.id}/active", data={"on": "0", "csrf": csrf})
        assert r.status_code == 200 and "nurse-rev" in r.text
        gone = await nurse_browser.get("/staff")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_admins_manage_only_their_campuses_accounts_and_it_is_audited(client, people, session):
    """Reviewer's finding: an admin of one campus could delete the group-wide admin, unrecorded."""
    alice, nurse, _, p = people
    east = await orgf.campus(session, code="EAST")
    east_admin = await accounts.account(session, username="east-admin", roles={"admin"}, campuses=[east])
    root = await accounts.account(session, username="root-admin", roles={"admin"}, group_wide=True)
    await session.commit()
    east_h = bearer(await sign_in(client, "east-admin"))
    for target in (nurse.id, alice.id, root.id):  # MAIN's nurse, a MAIN patient, the group-wide admin
        assert (
            await client.patch(f"/api/v1/accounts/{target}", json={"is_active": False}, headers=east_h)
        ).status_code == 403
        assert (await client.delete(f"/api/v1/accounts/{target}", headers=east_h)).status_code == 403
    root_h = bearer(await sign_in(client, "root-admin"))
    assert (
        await client.patch(f"/api/v1/accounts/{east_admin.id}", json={"is_active": False}, headers=root_h)
    ).status_code == 200
    rows = (await session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "account"))).all()
    assert sorted((r.action, r.outcome) for r in rows) == sorted(
        [("account.change", "denied")] * 3
        + [("account.delete", "denied")] * 3
        + [("account.change", "allowed")]
    )
