"""Forms keep what the person typed and say what to fix and why (issue 16, item 9): sign-up and the
desk's registration refuse an over-long name with the reason (never cut and saved), keep every field
but secrets, say a bad ID number once, and a person sent a code who comes back to sign-up can enter it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import patients as pf
from tests.web.test_pages import csrf_of, web_login, world  # noqa: F401  (fixture)
from zhiyi.domains.identity.models import Account
from zhiyi.domains.patients.models import Patient

LONG_NAME = "张" * 300
TOO_LONG = {"zh-CN": "最多 60 个字符", "en": "at most 60 characters"}
BAD_ID = {"zh-CN": "居民身份证号无效", "en": "resident ID number is not valid"}


async def patients_named(session, name: str) -> int:
    return await session.scalar(
        select(func.count()).select_from(Patient).where(Patient.name.startswith(name[:10]))
    )


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_the_desk_refuses_a_300_character_name_with_the_reason_and_keeps_the_form(
    client,
    world,  # noqa: F811
    session,
    locale,
):
    client.headers["accept-language"] = locale
    await web_login(client, "desk")
    page = await client.get("/desk")
    number = pf.id_number(age=40)
    r = await client.post(
        "/desk/register",
        data={
            "name": LONG_NAME,
            "id_number": number,
            "phone": "13566660001",
            "emergency_contact_name": "李四",
            "insurance_type": "urban_employee",
            "csrf": csrf_of(page.text),
        },
    )
    assert r.status_code == 422 and TOO_LONG[locale] in r.text
    assert await patients_named(session, LONG_NAME) == 0  # not cut to 60 and saved
    assert f'value="{number}"' in r.text and 'value="13566660001"' in r.text and 'value="李四"' in r.text
    assert '<option value="urban_employee" selected>' in r.text
    bad = await client.post(
        "/desk/register", data={"name": "周杰", "id_number": "110105194912310021", "csrf": csrf_of(page.text)}
    )
    message = bad.text.split('role="alert"', 1)[1].split("</p>", 1)[0]
    assert bad.status_code == 422 and message.count(BAD_ID[locale]) == 1, message  # said once, not twice
    assert 'value="周杰"' in bad.text


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_sign_up_keeps_what_was_typed_and_says_why(client, world, session, sandbox, drain, locale):  # noqa: F811
    client.headers["accept-language"] = locale
    page = await client.get("/signup")
    assert 'id="signup-form"' not in page.text and 'href="/signup?have_code=1"' in page.text
    sent = await client.post("/signup/code", data={"phone": "13766660002", "csrf": csrf_of(page.text)})
    assert sent.status_code == 200 and 'id="signup-form"' in sent.text
    await drain()
    code = sandbox.last_to("13766660002").params["code"]
    number = pf.id_number(age=30)
    r = await client.post(
        "/signup",
        data={
            "phone": "13766660002",
            "code": code,
            "password": "Kite-Lamp-4821",
            "name": "王" * 200,
            "id_number": number,
            "csrf": csrf_of(sent.text),
        },
    )
    assert r.status_code == 422 and TOO_LONG[locale] in r.text
    assert f'value="{number}"' in r.text and 'value="13766660002"' in r.text and "王" * 200 in r.text
    assert "Kite-Lamp-4821" not in r.text and f'value="{code}"' not in r.text  # secrets are typed again
    assert (
        await session.scalar(select(func.count()).select_from(Account).where(Account.phone == "13766660002"))
        == 0
    )
    # back on the page a moment later: asking again must wait, but the code already sent can be entered
    again = await client.post("/signup/code", data={"phone": "13766660002", "csrf": csrf_of(r.text)})
    assert again.status_code == 429 and 'id="signup-form"' in again.text
    assert 'id="signup-form"' in (await client.get("/signup?have_code=1")).text
    ok = await client.post(
        "/signup",
        data={
            "phone": "13766660002",
            "code": code,
            "password": "Kite-Lamp-4821",
            "name": "王小明",
            "id_number": number,
            "csrf": csrf_of(again.text),
        },
    )
    assert ok.status_code == 303
