"""The registration desk books for a patient it found (the same pages as patients use, acting for
that patient; desk bookings held to the desk's campuses)."""

from __future__ import annotations

from sqlalchemy import select

from tests.domains.scheduling.test_web import confirm_form, count, csrf_of, login, world  # noqa: F401  (fixture)
from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.domains.scheduling.models import Booking


async def test_desk_finds_a_patient_and_books_for_them(client, world, session):  # noqa: F811
    await accounts.account(session, username="desk", roles={"registrar"}, campuses=[world.main])
    await session.commit()
    await login(client, "desk")
    assert (await client.get("/book")).status_code == 403  # nobody chosen yet
    found = await client.get("/desk", params={"name": world.other.name})
    assert f'href="/desk/book/{world.other.id}"' in found.text
    r = await client.get(f"/desk/book/{world.other.id}")
    assert r.status_code == 303 and r.headers["location"] == "/book"
    times = await client.get(f"/book/session/{world.cs.id}")
    assert times.status_code == 200 and world.other.name in times.text
    form = await confirm_form(client, world.slots[0], world.other)
    done = await client.post("/book/confirm", data=form)
    assert done.status_code == 303, done.text
    booking = await session.scalar(select(Booking).where(Booking.patient_id == world.other.id))
    assert booking.channel == "desk" and await count(session) == 1
    mine = await client.get("/appointments")
    assert f'data-booking="{booking.id}"' in mine.text


async def test_a_desk_of_another_campus_cannot_book_here(client, world, session):  # noqa: F811
    east = await orgf.campus(session, code="EAST")
    await accounts.account(session, username="eastdesk", roles={"registrar"}, campuses=[east])
    await session.commit()
    await login(client, "eastdesk")
    await client.get(f"/desk/book/{world.other.id}")
    form = await confirm_form(client, world.slots[0], world.other)
    refused = await client.post("/book/confirm", data=form)
    assert refused.status_code == 403 and await count(session) == 0


async def test_patients_cannot_use_the_desk_route(client, world, session):  # noqa: F811
    await login(client, "me")
    assert (await client.get(f"/desk/book/{world.other.id}")).status_code == 403


async def test_a_registrar_who_is_also_a_patient_is_still_held_to_the_desks_campus(client, world, session):  # noqa: F811
    east = await orgf.campus(session, code="EAST")
    own = await pf.patient(session, campus=east, name="挂号员", phone="13900000099")
    acct = await accounts.account(
        session, username="deskpatient", roles={"registrar", "patient"}, campuses=[east], patient=own
    )
    await session.commit()
    h = await accounts.bearer(session, acct)
    other = await client.post(
        "/api/v1/scheduling/bookings",
        headers={**h, "Idempotency-Key": "k-desk-pt-1"},
        json={"slot_id": str(world.slots[0].id), "patient_id": str(world.other.id)},
    )
    assert other.status_code == 403 and await count(session) == 0
    mine = await client.post(
        "/api/v1/scheduling/bookings",
        headers={**h, "Idempotency-Key": "k-desk-pt-2"},
        json={"slot_id": str(world.slots[1].id)},
    )
    assert mine.status_code == 201, mine.text  # as a patient, any campus


async def test_a_desk_sees_a_patients_bookings_at_its_own_campuses_only(client, world, session):  # noqa: F811
    b = await sf.booking(
        session,
        cs=world.cs,
        slot=world.slots[0],
        patient=world.other,
        account=world.other_acct,
        status="booked",
    )
    east = await orgf.campus(session, code="EAST")
    await accounts.account(session, username="eastdesk", roles={"registrar"}, campuses=[east])
    await accounts.account(session, username="maindesk", roles={"registrar"}, campuses=[world.main])
    await session.commit()
    await login(client, "eastdesk")
    await client.get(f"/desk/book/{world.other.id}")
    page = await client.get("/appointments")
    assert page.status_code == 200 and f'data-booking="{b.id}"' not in page.text
    await client.post("/logout", data={"csrf": csrf_of(page.text)})
    await login(client, "maindesk")
    await client.get(f"/desk/book/{world.other.id}")
    assert f'data-booking="{b.id}"' in (await client.get("/appointments")).text
