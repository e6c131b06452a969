"""Which clinics are "now": today's in the hospital's zone, and tomorrow's whose arrival has opened
(a clinic that runs past midnight, or starts just after it). The patient's "I have arrived", the
desk's arrivals, the doctor's day and triage's note for the receiving doctor all ask this one rule."""

from __future__ import annotations

import datetime as dt

from zhiyi.core import clock
from zhiyi.core.config import get_settings


def today() -> dt.date:
    """The hospital's calendar day now."""
    return clock.today(get_settings().timezone)


def days_now() -> tuple[dt.date, dt.date]:
    """The days a clinic that is "now" can fall on: today and tomorrow."""
    t = today()
    return t, t + dt.timedelta(days=1)


def arrival_opens(starts_at: dt.datetime) -> dt.datetime:
    """When a patient may arrive (check in) for a time: an hour (setting) before it."""
    return starts_at - dt.timedelta(minutes=get_settings().checkin_opens_minutes)


def is_now(session_on: dt.date, starts_at: dt.datetime) -> bool:
    """Whether a booking (or clinic) of `session_on` starting at `starts_at` belongs to the clinics
    of now: today's, or tomorrow's once arrival for it has opened."""
    first, second = days_now()
    return session_on == first or (session_on == second and arrival_opens(starts_at) <= clock.now())
