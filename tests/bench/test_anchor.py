"""The bench's anchor drives the server's statements straight through the driver, its short
question for sessions seen sold out included (PostgreSQL): one patient at a time, the short way
and the usual way reach the same decisions and sell every place once."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from zhiyi.bench import raw
from zhiyi.bench.release import reset_release, seed_release
from zhiyi.bench.rush import SECRET, _with_db
from zhiyi.core import clock, migrate
from zhiyi.domains.scheduling.models import Booking


def test_the_short_and_the_usual_anchor_decide_alike(backend, fresh_db_url):
    if backend.name != "postgresql":
        pytest.skip("the anchor's short question is a PostgreSQL function")
    migrate.upgrade(fresh_db_url)
    release = asyncio.run(_with_db(fresh_db_url, lambda s: seed_release(
        s, secret=SECRET, doctors=2, slots_per_doctor=3, patients=12, release_at=clock.now() - dt.timedelta(minutes=1))))
    people = list(zip(release.patient_ids, release.account_ids, strict=True))
    outcomes = []
    for short in (False, True):
        asyncio.run(_with_db(fresh_db_url, reset_release))
        decisions, _ = asyncio.run(raw.run_pg(fresh_db_url, people=people, session_ids=release.session_ids,
                                              concurrency=1, pool_size=1, seed=3, max_tries=2, short=short))
        booked = asyncio.run(_with_db(fresh_db_url, lambda s: s.scalar(select(func.count()).select_from(Booking))))
        outcomes.append((decisions, booked))
    # 6 places for 12 patients trying 2 sessions each: 6 bookings, and 6 patients told "full" twice
    # (the short way asks about a session it saw sold out: a failing question would raise here)
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][1] == 6 and outcomes[1][0] >= 6 + 2 * 6
