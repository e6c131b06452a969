"""Appointment reminders through the notification channel: once per booking, when its time is
less than `reminder_hours_before` away. A periodic job (scheduling/jobs.py) sends them; one
conditional UPDATE claims the bookings to remind, so several workers never send one twice."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import notify
from zhiyi.core.config import get_settings
from zhiyi.domains.org import service as org
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling.models import Booking, ClinicSession, Slot

TEMPLATE = "booking.reminder"


async def send_reminders(session: AsyncSession, now: dt.datetime) -> int:
    s = get_settings()
    soon = select(Slot.id).where(Slot.starts_at > now, Slot.starts_at <= now + dt.timedelta(hours=s.reminder_hours_before))
    claimed = (await session.execute(
        update(Booking).where(Booking.status == "booked", Booking.reminded_at.is_(None), Booking.slot_id.in_(soon))
        .values(reminded_at=now).returning(Booking.id, Booking.patient_id, Booking.slot_id,
                                           Booking.booked_by_account_id)
        .execution_options(synchronize_session=False))).all()
    zone = ZoneInfo(s.timezone)
    for _, patient_id, slot_id, account_id in claimed:
        slot, cs = (await session.execute(select(Slot, ClinicSession).join(ClinicSession, ClinicSession.id == Slot.session_id)
                                          .where(Slot.id == slot_id))).one()
        patient = await patients.get_patient(session, patient_id=patient_id)
        doctor = (await org.practitioners_by_ids(session, ids={cs.practitioner_id})).get(cs.practitioner_id)
        await notify.enqueue(session, s.notification_channel, notify.Message(
            to=patient.phone or str(account_id), template=TEMPLATE, locale=s.default_locale,
            params={"name": patient.name, "when": slot.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    "doctor": doctor.name_zh if doctor else ""}))
    return len(claimed)
