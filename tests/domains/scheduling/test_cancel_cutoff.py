"""The cancellation cut-off is no surprise (issue 16, item 4): the confirmation and the booked page say
until when a booking can be cancelled online; after that moment "My appointments" offers no cancel
button but says whom to contact, also on the page that answers a refused cancel."""

from __future__ import annotations

import datetime as dt

from tests.domains.scheduling.test_web import confirm_form, csrf_of, login, world  # noqa: F401  (fixture)
from tests.factories import scheduling as sf
from zhiyi.domains.scheduling.models import ReleasePolicy


async def test_the_cut_off_is_shown_when_booking_and_the_button_goes_after_it(client, world, session):  # noqa: F811
    # the department cancels online up to 3 hours before; a clinic in 2.5 hours is already past that
    session.add(ReleasePolicy(department_id=world.card.id, days_ahead=7, cancel_cutoff_hours=3))
    soon, soon_slots = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=dt.timedelta(hours=2, minutes=30),
        slots=2,
    )
    await session.commit()
    await login(client, "me")
    confirm = await client.get(f"/book/confirm?slot={world.slots[0].id}&patient={world.me.id}")
    assert 'id="cancel-until"' in confirm.text and "前可在线取消" in confirm.text
    done = await client.post("/book/confirm", data=await confirm_form(client, world.slots[0], world.me))
    booked = await client.get(done.headers["location"], headers={"accept-language": "en"})
    assert "You can cancel online until" in booked.text

    late = await client.post("/book/confirm", data=await confirm_form(client, soon_slots[0], world.parent))
    assert late.status_code == 303
    late_id = late.headers["location"].rsplit("/", 1)[1]
    page = await client.get("/appointments")
    # too late: no button that can only fail
    assert f'action="/appointments/{late_id}/cancel"' not in page.text
    card = page.text.split(f'data-booking="{late_id}"')[1].split("</li>")[0]
    assert "cancel-closed" in card and "请联系门诊" in card
    en = await client.get("/appointments", headers={"accept-language": "en"})
    assert "please contact the clinic" in en.text.split(f'data-booking="{late_id}"')[1].split("</li>")[0]
    # a cancel sent anyway (an old page) is refused, and the page it answers has no button either
    refused = await client.post(f"/appointments/{late_id}/cancel", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 422 and 'id="appointments-message"' in refused.text
    assert f'action="/appointments/{late_id}/cancel"' not in refused.text
