"""Periodic jobs of the scheduling domain, run by every outbox worker (core.jobs): holds that ran
out pass their places on, places on open sale beside a waiting line are held for it, and missed
appointments become no-shows. Each job is its own transaction (so the session locks of one sweep
are always taken in one sorted batch) and safe to run in several processes at once (see holds.py
and no_shows.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import jobs
from zhiyi.core.config import get_settings
from zhiyi.domains.scheduling import holds, no_shows, reminders


@jobs.periodic("scheduling.expire_holds", every=lambda: get_settings().waitlist_sweep_seconds)
async def expire_holds(session: AsyncSession, now: dt.datetime) -> int:
    return await holds.expire_holds(session, now)


@jobs.periodic("scheduling.fill_free_places", every=lambda: get_settings().waitlist_sweep_seconds)
async def fill_free_places(session: AsyncSession, now: dt.datetime) -> int:
    return await holds.fill_free_places(session, now)


@jobs.periodic("scheduling.mark_no_shows", every=lambda: get_settings().no_show_sweep_seconds)
async def mark_no_shows(session: AsyncSession, now: dt.datetime) -> int:
    return await no_shows.mark_no_shows(session, now)


@jobs.periodic("scheduling.send_reminders", every=lambda: get_settings().reminder_sweep_seconds)
async def send_reminders(session: AsyncSession, now: dt.datetime) -> int:
    return await reminders.send_reminders(session, now)
