"""Times that have passed are not offered (issue 16, item 3): a clinic of today whose bookable times
have all passed is listed nowhere a patient looks for one (the booking page, the API, triage's
doctors, "book again"), and a clinic partly passed shows only the places still to be had. Its own
page says the times have passed instead of offering its waiting list. The doctor's day still lists it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from tests.domains.scheduling.test_web import login, world  # noqa: F401  (fixture)
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import scheduling as sf
from zhiyi.domains.scheduling.models import Slot
from zhiyi.domains.scheduling.service import find_sessions

API = "/api/v1/scheduling"


async def test_a_clinic_whose_times_have_passed_is_not_offered(daytime, client, world, session):  # noqa: F811
    # today's clinic: started four hours ago, every time over (three places "left" by the old count)
    over, _ = await sf.session_with_slots(
        session,
        practitioner=world.doc,
        department=world.card,
        campus=world.main,
        starts_in=-dt.timedelta(hours=4),
        slots=3,
    )
    # and one running now (another doctor's: one clinic a doctor a half-day): two of its four times have
    # passed, one of the two to come is taken
    colleague = await orgf.practitioner(session, department=world.card, campuses=[world.main])
    running, times = await sf.session_with_slots(
        session,
        practitioner=colleague,
        department=world.card,
        campus=world.main,
        starts_in=-dt.timedelta(minutes=15),
        slots=4,
    )
    await session.execute(update(Slot).where(Slot.id == times[3].id).values(booked=1))
    await session.commit()
    await login(client, "me")
    page = await client.get(f"/book?department={world.card.id}")
    assert page.status_code == 200
    assert f'data-session="{over.id}"' not in page.text
    listed = page.text.split(f'data-session="{running.id}"')[1].split("</li>")[0]
    assert "剩余号源：1" in listed  # the place still to be had, not 3 (or 4)

    h = await accounts.bearer(session, world.me_acct)
    found = (
        await client.get(f"{API}/sessions", params={"department_id": str(world.card.id)}, headers=h)
    ).json()
    by_id = {s["id"]: s for s in found}
    assert str(over.id) not in by_id
    assert (by_id[str(running.id)]["capacity"], by_id[str(running.id)]["available"]) == (2, 1)

    times_page = await client.get(f"/book/session/{over.id}")
    assert times_page.status_code == 200 and 'id="session-over"' in times_page.text
    assert "join-waitlist" not in times_page.text and "候补" not in times_page.text
    en = await client.get(f"/book/session/{over.id}", headers={"accept-language": "en"})
    assert "Every time of this clinic has passed." in en.text

    # the doctors' own days still have them, with all their times
    for doc, cs in ((world.doc, over), (colleague, running)):
        day = await find_sessions(
            session, practitioner_id=doc.id, first=cs.session_on, last=cs.session_on, bookable=False
        )
        assert cs.id in {s.id for s in day}
