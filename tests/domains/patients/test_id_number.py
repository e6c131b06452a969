"""Issue 15, item 3: staff see a resident ID number masked (region and last four), never beside the
date of birth; the full number only to a registration desk of the patient's campus, on an explicit
request with a reason, audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from zhiyi.core import clock
from zhiyi.core.audit import AuditEvent
from zhiyi.core.config import get_settings
from zhiyi.domains.patients import service as patients

MASKED = re.compile(r"\d{4}\*{10}[\dX]{4}")


@pytest.fixture
async def world(session):
    main = await orgf.campus(session, code="MAIN", is_main=True)
    east = await orgf.campus(session, code="EAST")
    p = await pf.patient(session, campus=main, name="王芳")
    pat = await accounts.account(session, username="idn-pat", roles={"patient"}, patient=p)
    nurse = await accounts.account(session, username="idn-nurse", roles={"nurse"}, campuses=[main])
    desk = await accounts.account(session, username="idn-desk", roles={"registrar"}, campuses=[main])
    east_desk = await accounts.account(session, username="idn-east", roles={"registrar"}, campuses=[east])
    h = {
        name: await accounts.bearer(session, a)
        for name, a in (("patient", pat), ("nurse", nurse), ("desk", desk), ("east_desk", east_desk))
    }
    await session.commit()
    return p, pf.security_id(p), h


def no_birth_date(text: str, number: str) -> None:
    """Nothing of the answer gives the birth date back: not its digits as in the number, not as a date."""
    digits = number[6:14]
    assert digits not in text and f"{digits[:4]}-{digits[4:6]}-{digits[6:]}" not in text


async def test_staff_see_the_mask_and_the_age_only(client, world):
    p, number, h = world
    r = await client.get(f"/api/v1/patients/{p.id}", headers=h["desk"])
    assert r.status_code == 200
    body = r.json()
    assert body["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert body["birth_date"] is None and body["age"] == patients.age_on(
        born, clock.today(get_settings().timezone)
    )
    no_birth_date(r.text, number)
    found = await client.get("/api/v1/patients", params={"name": "王芳"}, headers=h["desk"])
    assert found.status_code == 200 and [x["id"] for x in found.json()] == [str(p.id)]
    assert MASKED.fullmatch(found.json()[0]["id_number_masked"]) and found.json()[0]["birth_date"] is None
    no_birth_date(found.text, number)


async def test_the_patient_sees_their_own_date_of_birth(client, world):
    p, number, h = world
    body = (await client.get(f"/api/v1/patients/{p.id}", headers=h["patient"])).json()
    assert body["birth_date"] == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    assert MASKED.fullmatch(body["id_number_masked"])


async def test_staff_pages_show_no_date_of_birth(client, world, session):
    p, number, _ = world
    await client.post(
        "/login", data={"username": "idn-desk", "password": accounts.PASSWORD, "csrf": await csrf(client)}
    )
    page = await client.get("/desk", params={"name": "王芳"})
    assert page.status_code == 200 and p.mrn in page.text
    assert number[:4] + "*" * 10 + number[-4:] in page.text
    no_birth_date(page.text, number)


async def csrf(client) -> str:
    page = await client.get("/login")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


async def test_a_desk_reveals_the_full_number_with_a_reason_audited(client, world, session):
    p, number, h = world
    r = await client.post(
        f"/api/v1/patients/{p.id}/id-number", json={"reason": "医保登记核对身份"}, headers=h["desk"]
    )
    assert r.status_code == 200 and r.json() == {"id_number": number}
    row = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == p.id, AuditEvent.action == "id_number.reveal")
        )
    ).one()
    assert row.outcome == "allowed" and row.reason == "医保登记核对身份"


@pytest.mark.parametrize(("who", "status"), [("nurse", 403), ("east_desk", 403), ("patient", 403)])
async def test_others_cannot_reveal_it_and_the_attempt_is_audited(client, world, session, who, status):
    p, number, h = world
    r = await client.post(
        f"/api/v1/patients/{p.id}/id-number", json={"reason": "just curious"}, headers=h[who]
    )
    assert r.status_code == status and number not in r.text
    row = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == p.id, AuditEvent.action == "id_number.reveal")
        )
    ).one()
    assert row.outcome == "denied" and row.reason == "just curious"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "ab"},
        {"reason": "x" * 201},
        {"reason": "看看\u202e"},
        {"reason": "ok reason", "more": 1},
    ],
)
async def test_a_reveal_needs_a_real_reason(client, world, session, body):
    p, number, h = world
    r = await client.post(f"/api/v1/patients/{p.id}/id-number", json=body, headers=h["desk"])
    assert r.status_code == 422 and number not in r.text
    assert (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "id_number.reveal"))
    ).all() == []
