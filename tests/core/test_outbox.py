"""The transactional outbox: events exist exactly when the change commits, and are delivered once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from zhiyi.core import outbox
from zhiyi.core.outbox import OutboxEvent

seen: list[str] = []


@outbox.handles("test.thing_happened")
async def _record(session, event):
    if event.payload.get("fail"):
        raise RuntimeError("handler failed")
    seen.append(event.payload["name"])


async def test_event_is_written_with_the_transaction_and_delivered_once(session):
    seen.clear()
    await outbox.publish(session, "test.thing_happened", {"name": "a"})
    await session.commit()
    assert await outbox.deliver_pending(session) == 1
    await session.commit()
    assert seen == ["a"]
    assert await outbox.deliver_pending(session) == 0
    assert seen == ["a"]


async def test_rolled_back_change_publishes_nothing(session):
    seen.clear()
    async with session.begin_nested():
        await outbox.publish(session, "test.thing_happened", {"name": "ghost"})
        await session.flush()
        await session.rollback()
    assert await outbox.deliver_pending(session) == 0
    assert seen == []


async def test_failing_handler_is_retried_later_without_blocking_others(session):
    seen.clear()
    await outbox.publish(session, "test.thing_happened", {"name": "x", "fail": True})
    await outbox.publish(session, "test.thing_happened", {"name": "b"})
    await session.commit()
    assert await outbox.deliver_pending(session) == 1
    assert seen == ["b"]
    failed = await session.scalar(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)))
    assert failed.attempts == 1 and "handler failed" in failed.last_error
    assert failed.available_at > failed.created_at


async def test_events_nobody_handles_are_marked_delivered(session):
    event_id = await outbox.publish(session, "test.nobody_listens", {"name": "n"})
    await session.commit()
    assert await outbox.deliver_pending(session) == 1
    await session.commit()
    event = await session.get(OutboxEvent, event_id)
    assert event.delivered_at is not None and event.attempts == 0


async def test_a_burst_of_commits_is_delivered_in_one_pass(db, monkeypatch):
    """Woken by each of a burst of commits, the worker waits a moment and delivers them together
    (in a rush, one transaction per event would cost the request's process as much again)."""
    seen.clear()
    worker = outbox.Worker(db.sessionmaker, interval=30, gather=1.0)

    async def no_jobs():
        return 0

    passes: list[int] = []
    run_once = worker.run_once

    async def counted():
        passes.append(await run_once())
        return passes[-1]

    monkeypatch.setattr(worker, "run_jobs", no_jobs)
    monkeypatch.setattr(worker, "run_once", counted)
    worker.start()
    try:
        for _ in range(200):  # its first pass finds nothing; then it waits to be woken
            if passes:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        for i in range(5):
            async with db.sessionmaker() as s:
                await outbox.publish(s, "test.thing_happened", {"name": f"burst-{i}"})
                await s.commit()
            worker.wake()
            await asyncio.sleep(0.01)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(seen) == 5:
                break
    finally:
        await worker.stop()
    assert sorted(seen) == [f"burst-{i}" for i in range(5)]
    assert [n for n in passes if n] == [5]


async def test_a_commit_during_a_pass_that_found_nothing_is_not_forgotten(db, monkeypatch):
    """A commit that wakes the worker while a pass is running (and finding nothing) is delivered
    at once, not after the worker's idle interval."""
    seen.clear()
    worker = outbox.Worker(db.sessionmaker, interval=30, gather=0)
    run_once = worker.run_once
    first = True

    async def no_jobs():
        return 0

    async def pass_during_which_a_commit_lands():
        nonlocal first
        found = await run_once()
        if first:  # this pass found nothing; a request commits an event and wakes the worker now
            first = False
            async with db.sessionmaker() as s:
                await outbox.publish(s, "test.thing_happened", {"name": "mid-pass"})
                await s.commit()
            worker.wake()
        return found

    monkeypatch.setattr(worker, "run_jobs", no_jobs)
    monkeypatch.setattr(worker, "run_once", pass_during_which_a_commit_lands)
    worker.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if seen:
                break
    finally:
        await worker.stop()
    assert seen == ["mid-pass"]  # within 5 s, not the 30 s idle interval


async def test_unheard_events_are_delivered_in_batches_beside_the_heard_ones(session):
    """Events nobody listens to are delivered by one statement per pass (up to `limit`), and do not
    crowd out the events someone listens to."""
    seen.clear()
    for i in range(5):
        await outbox.publish(session, "test.nobody_listens", {"i": i})
    await outbox.publish(session, "test.thing_happened", {"name": "heard"})
    await session.commit()
    assert await outbox.deliver_pending(session, limit=3) == 3 + 1  # three unheard, and the heard one
    assert seen == ["heard"]
    assert await outbox.deliver_pending(session, limit=3) == 2
    assert await outbox.deliver_pending(session, limit=3) == 0
    await session.commit()
    pending = await session.scalars(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)))
    assert pending.all() == []


async def test_a_pass_that_hangs_does_not_hold_the_stop_and_its_event_is_delivered_later(db):
    """A stopping worker gives a running pass its grace, then cancels it: the pass's transaction never
    commits, so the event stays pending for the next worker."""
    entered, release = asyncio.Event(), asyncio.Event()

    @outbox.handles("test.hangs")
    async def hang(session, event):
        entered.set()
        await release.wait()  # waits for something that never comes (a lock, a peer)

    try:
        async with db.sessionmaker() as s:
            event_id = await outbox.publish(s, "test.hangs", {})
            await s.commit()
        worker = outbox.Worker(db.sessionmaker, interval=30, gather=0)
        worker.start()
        await entered.wait()
        await asyncio.wait_for(worker.stop(grace=0.05), 60)  # (a regression fails here, not hangs)
        assert worker._task.cancelled()
        async with db.sessionmaker() as s:
            assert (await s.get(OutboxEvent, event_id)).delivered_at is None
    finally:
        outbox.unregister("test.hangs", hang)
