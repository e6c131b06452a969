"""A consenting adult sees who manages her affairs and stops it on her own page (issue 16: she could
neither see nor revoke it); the manager's access ends at once, and both steps are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.web.test_pages import csrf_of, web_login
from zhiyi.core.audit import AuditEvent


@pytest.mark.parametrize(
    ("locale", "heading", "button"),
    [
        ("zh-CN", "谁在代管我的事务", "不再让其代管我的事务"),
        ("en", "Who manages my affairs", "Stop them managing my affairs"),
    ],
)
async def test_an_adult_sees_who_manages_her_affairs_and_stops_it(client, session, locale, heading, button):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    son = await pf.patient(session, campus=main, name="王子", phone="13900000081")
    mother = await pf.patient(session, campus=main, name="王母", phone="13900000082", age=70)
    await accounts.account(session, username="son", roles={"patient"}, patient=son)
    await accounts.account(session, username="mother", roles={"patient"}, patient=mother)
    link = await pf.family_link(session, proxy=son, dependent=mother)
    await session.commit()
    client.headers["accept-language"] = locale
    await web_login(client, "son")
    assert (await client.get(f"/portal/record?patient={mother.id}")).status_code == 200
    client.cookies.clear()
    await web_login(client, "mother")
    page = await client.get("/portal/family")
    mine = page.text.split('id="my-managers"', 1)[1].split("</section>", 1)[0]
    assert heading in page.text and "王子" in mine and button in mine
    ended = await client.post(f"/portal/family/{link.id}/end", data={"csrf": csrf_of(page.text)})
    assert (
        ended.status_code == 200
        and "王子" not in ended.text.split('id="my-managers"', 1)[1].split("</section>")[0]
    )
    client.cookies.clear()
    await web_login(client, "son")
    assert (await client.get(f"/portal/record?patient={mother.id}")).status_code == 403  # at once
    revoked = await session.scalar(select(AuditEvent).where(AuditEvent.action == "proxy.revoke"))
    assert revoked is not None and revoked.patient_id == mother.id


async def test_nobody_else_can_end_a_family_link(client, session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    son, mother, other = [
        await pf.patient(session, campus=main, name=n, phone=ph)
        for n, ph in (("王子", "13900000083"), ("王母", "13900000084"), ("路人", "13900000085"))
    ]
    await accounts.account(session, username="other", roles={"patient"}, patient=other)
    link = await pf.family_link(session, proxy=son, dependent=mother)
    await session.commit()
    await web_login(client, "other")
    page = await client.get("/portal/family")
    r = await client.post(f"/portal/family/{link.id}/end", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("locale", "saved", "why"),
    [
        ("zh-CN", "您的信息已保存。", "紧急联系人电话（至少 11 个字符）"),
        ("en", "Your details are saved.", "Emergency contact phone (at least 11 characters)"),
    ],
)
async def test_a_patient_changes_her_phone_insurance_and_emergency_contact(
    client, session, locale, saved, why
):
    """Issue 16: patients could not change their phone, insurance or emergency contact."""
    main = await orgf.campus(session, code="MAIN", is_main=True)
    me = await pf.patient(session, campus=main, name="张敏", phone="13900000086")
    await accounts.account(session, username="min", roles={"patient"}, patient=me)
    await session.commit()
    client.headers["accept-language"] = locale
    await web_login(client, "min")
    page = await client.get("/portal/record")
    assert 'id="edit-details"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "phone": "13700000001",
        "insurance_type": "urban_employee",
        "insurance_number": "SH12345678",
        "emergency_contact_name": "张强",
        "emergency_contact_phone": "12345",
    }
    bad = await client.post(f"/portal/record/{me.id}", data=form)
    assert (
        bad.status_code == 422
        and why in bad.text
        and 'value="张强"' in bad.text
        and 'value="12345"' in bad.text
    )
    await session.refresh(me)
    assert me.phone == "13900000086"  # nothing changed
    ok = await client.post(f"/portal/record/{me.id}", data={**form, "emergency_contact_phone": "13700000002"})
    assert ok.status_code == 200 and saved in ok.text
    await session.refresh(me)
    assert (
        me.phone,
        me.insurance_type,
        me.insurance_number,
        me.emergency_contact_name,
        me.emergency_contact_phone,
    ) == (
        "13700000001",
        "urban_employee",
        "SH12345678",
        "张强",
        "13700000002",
    )


async def test_nobody_changes_another_patients_details_on_this_page(client, session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    me = await pf.patient(session, campus=main, name="张敏", phone="13900000087")
    other = await pf.patient(session, campus=main, name="李雷", phone="13900000088")
    await accounts.account(session, username="min", roles={"patient"}, patient=me)
    await accounts.account(session, username="desk", roles={"registrar"}, campuses=[main])
    await session.commit()
    for who in ("min", "desk"):
        client.cookies.clear()
        await web_login(client, who)
        page = await client.get("/")
        r = await client.post(
            f"/portal/record/{other.id}",
            data={"csrf": csrf_of(page.text), "phone": "13700000009", "insurance_type": "self_pay"},
        )
        assert r.status_code == 403, who
    await session.refresh(other)
    assert other.phone == "13900000088"


async def test_adding_a_family_member_keeps_what_was_typed_after_a_refusal(client, session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    me = await pf.patient(session, campus=main, name="张敏", phone="13900000089")
    await accounts.account(session, username="min", roles={"patient"}, patient=me)
    await session.commit()
    await web_login(client, "min")
    page = await client.get("/portal/family")
    r = await client.post(
        "/portal/family",
        data={
            "csrf": csrf_of(page.text),
            "name": "张小敏",
            "id_number": "110105194912310021",
            "relationship": "child",
        },
    )
    assert r.status_code == 422 and 'value="张小敏"' in r.text and 'value="110105194912310021"' in r.text
    assert '<option value="child" selected>' in r.text
