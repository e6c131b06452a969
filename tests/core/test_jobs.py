"""Periodic jobs: every outbox worker runs the registered jobs when due, each in its own
transaction; a failing job is logged and does not stop the others."""

from __future__ import annotations

import pytest

from zhiyi.core import jobs, outbox
from zhiyi.domains import registry  # noqa: F401  (installs the domains' jobs)

ran: list[str] = []


@pytest.fixture
def registered():
    ran.clear()

    @jobs.periodic("test.every_minute", every=60)
    async def every_minute(session, now):
        ran.append("minute")
        return 1

    @jobs.periodic("test.broken", every=lambda: 10.0)
    async def broken(session, now):
        ran.append("broken")
        raise RuntimeError("job failed")

    yield
    for name in ("test.every_minute", "test.broken"):
        jobs._jobs.pop(name, None)


async def test_due_jobs_run_once_per_period_and_a_failure_stops_nothing(db, registered, monkeypatch):
    t = [1000.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: t[0])
    worker = outbox.Worker(db.sessionmaker)
    assert await worker.run_jobs() >= 1
    assert ran == ["minute", "broken"]
    t[0] += 11  # the broken job is due again, the other is not
    await worker.run_jobs()
    assert ran == ["minute", "broken", "broken"]
    t[0] += 50
    await worker.run_jobs()
    assert ran.count("minute") == 2


def test_the_scheduling_jobs_are_registered():
    assert {"scheduling.expire_holds", "scheduling.mark_no_shows"} <= {j.name for j in jobs.registered()}
