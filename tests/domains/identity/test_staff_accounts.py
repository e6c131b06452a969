"""Staff accounts are managed on the admin's page (issue 16: they could only be made from the command
line): make one (its first password shown once), change its roles and campuses, give a new password,
disable; each audited; an admin gives only their own campuses, and changes only their campuses' staff."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.web.test_pages import csrf_of, web_login
from zhiyi.core.audit import AuditEvent
from zhiyi.domains.identity.models import Account, AccountCampus


@pytest.fixture
async def campuses(session):
    main, east = (
        await orgf.campus(session, code="MAIN", is_main=True),
        await orgf.campus(session, code="EAST"),
    )
    await accounts.account(session, username="main-admin", roles={"admin"}, campuses=[main])
    await accounts.account(session, username="east-nurse", roles={"nurse"}, campuses=[east])
    await session.commit()
    return main, east


async def actions(session, action: str) -> int:
    return len(
        (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == "allowed")
            )
        ).all()
    )


@pytest.mark.parametrize(("locale", "made"), [("zh-CN", "现在可以登录了"), ("en", "can sign in now")])
async def test_an_admin_makes_a_staff_account_that_signs_in(client, session, campuses, locale, made):
    main, _ = campuses
    client.headers["accept-language"] = locale
    await web_login(client, "main-admin")
    page = await client.get("/admin/accounts")
    assert 'data-account="east-nurse"' not in page.text  # another campus's staff is not this admin's
    r = await client.post(
        "/admin/accounts",
        data={
            "csrf": csrf_of(page.text),
            "username": "Nurse.Wang",
            "display_name": "王护士",
            "role": ["nurse"],
            "campus": [str(main.id)],
        },
    )
    assert r.status_code == 200 and made in r.text, r.text[-800:]
    password = re.search(r'id="new-password-value">([^<]+)<', r.text).group(1)
    account = await session.scalar(select(Account).where(Account.username == "nurse.wang"))
    assert account.roles == "nurse" and await actions(session, "account.create") == 1
    assert set(
        (
            await session.scalars(
                select(AccountCampus.campus_id).where(AccountCampus.account_id == account.id)
            )
        ).all()
    ) == {main.id}
    again = await client.get("/admin/accounts")
    assert password not in again.text  # shown once
    client.cookies.clear()
    assert (await web_login(client, "nurse.wang", password=password)).status_code == 303
    assert (await client.get("/staff")).status_code == 200


async def test_bad_or_foreign_choices_are_refused_keeping_the_form(client, session, campuses):
    main, east = campuses
    await web_login(client, "main-admin")
    page = await client.get("/admin/accounts")
    form = {"csrf": csrf_of(page.text), "username": "doc.li", "display_name": "李医生", "role": ["doctor"]}
    foreign = await client.post("/admin/accounts", data={**form, "campus": [str(east.id)]})
    assert (
        foreign.status_code == 403 and 'value="doc.li"' in foreign.text and 'value="李医生"' in foreign.text
    )
    no_role = await client.post("/admin/accounts", data={**form, "role": [], "campus": [str(main.id)]})
    assert no_role.status_code == 422 and "请至少选择一个工作人员角色" in no_role.text
    patient = await client.post(
        "/admin/accounts", data={**form, "role": ["patient"], "campus": [str(main.id)]}
    )
    assert patient.status_code == 422
    bad_name = await client.post("/admin/accounts", data={**form, "username": "x", "campus": [str(main.id)]})
    assert bad_name.status_code == 422 and "用户名" in bad_name.text
    assert await session.scalar(select(Account).where(Account.username == "doc.li")) is None


async def test_roles_campuses_passwords_and_disabling_each_audited(client, session, campuses):
    main, east = campuses
    await web_login(client, "main-admin")
    page = await client.get("/admin/accounts")
    made = await client.post(
        "/admin/accounts",
        data={
            "csrf": csrf_of(page.text),
            "username": "desk.zhao",
            "display_name": "赵挂号",
            "role": ["registrar"],
            "campus": [str(main.id)],
        },
    )
    first = re.search(r'id="new-password-value">([^<]+)<', made.text).group(1)
    account = await session.scalar(select(Account).where(Account.username == "desk.zhao"))
    csrf = csrf_of(made.text)
    changed = await client.post(
        f"/admin/accounts/{account.id}/access",
        data={"csrf": csrf, "role": ["registrar", "nurse"], "campus": [str(main.id)]},
    )
    assert changed.status_code == 200
    await session.refresh(account)
    assert account.role_set == {"registrar", "nurse"}
    widened = await client.post(
        f"/admin/accounts/{account.id}/access",
        data={"csrf": csrf, "role": ["registrar"], "campus": [str(main.id), str(east.id)]},
    )
    assert widened.status_code == 403  # not this admin's campus to give
    reset = await client.post(f"/admin/accounts/{account.id}/password", data={"csrf": csrf})
    second = re.search(r'id="new-password-value">([^<]+)<', reset.text).group(1)
    assert second != first
    client.cookies.clear()
    assert (await web_login(client, "desk.zhao", password=first)).status_code != 303
    assert (await web_login(client, "desk.zhao", password=second)).status_code == 303
    client.cookies.clear()
    await web_login(client, "main-admin")
    page = await client.get("/admin/accounts")
    off = await client.post(
        f"/admin/accounts/{account.id}/active", data={"csrf": csrf_of(page.text), "on": "0"}
    )
    assert off.status_code == 200
    assert [
        await actions(session, a) for a in ("account.create", "account.change", "account.reset_password")
    ] == [1, 2, 1]
    east_nurse = await session.scalar(select(Account).where(Account.username == "east-nurse"))
    refused = await client.post(
        f"/admin/accounts/{east_nurse.id}/password", data={"csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 403
