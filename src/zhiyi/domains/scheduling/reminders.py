"""Appointment reminders through the notification channel: once per booking, when its time is
less than `reminder_hours_before` away. A periodic job (scheduling/jobs.py) sends them; one
conditional UPDATE claims the bookings to remind, so several workers never send one twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import notify
from zhiyi.core.config import get_settings
from zhiyi.domains.org import service as org
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import holds
from zhiyi.domains.scheduling import repository as repo

TEMPLATE = "booking.reminder"


async def send_reminders(session: AsyncSession, now: dt.datetime) -> int:
    s = get_settings()
    claimed = await repo.claim_reminders(
        session, now=now, until=now + dt.timedelta(hours=s.reminder_hours_before)
    )
    for patient_id, slot_id, account_id in claimed:
        slot, cs = await repo.slot_with_session(session, slot_id)
        patient = await patients.get_patient(session, patient_id=patient_id)
        doctor = (await org.practitioners_by_ids(session, ids={cs.practitioner_id})).get(cs.practitioner_id)
        await notify.enqueue(
            session,
            s.notification_channel,
            notify.Message(
                to=patient.phone or str(account_id),
                template=TEMPLATE,
                locale=s.default_locale,
                params={
                    "name": patient.name,
                    "when": holds.local(slot.starts_at),
                    "doctor": doctor.name_zh if doctor else "",
                },
            ),
        )
    return len(claimed)
