"""Appointment reminders: once per booking, inside the reminder window, never for cancelled ones."""

from __future__ import annotations

import datetime as dt

from tests.factories import identity as accounts
from tests.factories import org as orgf
from tests.factories import patients as pf
from tests.factories import scheduling as sf
from zhiyi.core import clock
from zhiyi.domains.scheduling import reminders


async def test_reminders_go_once_to_whoever_comes_soon(
    client, session, drain, sandbox
):  # client: the app and its channels
    campus = await orgf.campus(session, code="MAIN", is_main=True)
    dept = await orgf.department(session, code="IM")
    doc = await orgf.practitioner(session, department=dept, campuses=[campus])
    soon, soon_slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=campus, starts_in=dt.timedelta(hours=2), slots=3
    )
    later, later_slots = await sf.session_with_slots(
        session, practitioner=doc, department=dept, campus=campus, starts_in=dt.timedelta(days=3), slots=1
    )
    people = [await pf.patient(session, campus=campus, phone=f"1370000010{i}") for i in range(4)]
    accts = [
        await accounts.account(session, username=f"r{i}", roles={"patient"}, patient=p)
        for i, p in enumerate(people)
    ]
    await sf.booking(
        session, cs=soon, slot=soon_slots[0], patient=people[0], account=accts[0], status="booked"
    )
    await sf.booking(
        session, cs=soon, slot=soon_slots[1], patient=people[1], account=accts[1], status="cancelled"
    )
    await sf.booking(
        session, cs=later, slot=later_slots[0], patient=people[2], account=accts[2], status="booked"
    )
    await session.commit()

    assert await reminders.send_reminders(session, clock.now()) == 1
    await session.commit()
    assert await reminders.send_reminders(session, clock.now()) == 0  # once
    await session.commit()
    await drain()
    message = sandbox.last_to(people[0].phone)
    assert message.template == "booking.reminder" and message.params["doctor"] == doc.name_zh
    assert sandbox.last_to(people[1].phone) is None and sandbox.last_to(people[2].phone) is None
    # its turn
    assert await reminders.send_reminders(session, clock.now() + dt.timedelta(days=2, hours=1)) == 1
