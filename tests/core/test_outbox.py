"""The transactional outbox: events exist exactly when the change commits, and are delivered once."""

from __future__ import annotations

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
