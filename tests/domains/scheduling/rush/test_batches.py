"""The short questions of sold-out sessions go out in batches (batches.Batcher): a question asked
while others are under way waits for them and goes out with the ones that came meanwhile; each gets
its own answer, and a failed round trip fails only the questions it carried."""

from __future__ import annotations

import asyncio

import pytest

from zhiyi.domains.scheduling.rush import batches


class Database:
    """Stands in for the round trip: records each batch, answers after the test lets it."""

    def __init__(self, fail: set[int] | None = None) -> None:
        self.batches: list[list[tuple]] = []
        self.fail = fail or set()  # round trips (by number) that fail
        self.go = asyncio.Event()

    async def round_trip(self, questions: list[tuple]) -> list[str]:
        self.batches.append(questions)
        number = len(self.batches)
        await self.go.wait()
        if number in self.fail:
            raise OSError("connection lost")
        return [f"answer to {q[1]}" for q in questions]


async def settle() -> None:
    """Lets every task that can run, run (asks, then the round trips they start)."""
    for _ in range(5):
        await asyncio.sleep(0)


def _question(n: int) -> tuple:
    return ("account", f"key-{n}", "hash", "session", "now")


async def test_questions_asked_while_one_is_under_way_go_out_together():
    db = Database()
    batcher = batches.Batcher(db.round_trip, out=1)
    first = asyncio.ensure_future(batcher.ask(_question(0)))
    await settle()  # the first goes out at once, alone
    rest = [asyncio.ensure_future(batcher.ask(_question(n))) for n in range(1, 6)]
    await settle()
    db.go.set()
    answers = await asyncio.gather(first, *rest)
    assert answers == [f"answer to key-{n}" for n in range(6)]  # each its own answer, in order
    assert [len(b) for b in db.batches] == [1, 5]  # two round trips for six questions


async def test_a_quiet_question_waits_for_nothing_and_two_go_out_side_by_side():
    db = Database()
    db.go.set()
    batcher = batches.Batcher(db.round_trip, out=2)
    assert await batcher.ask(_question(0)) == "answer to key-0"
    db.go.clear()
    a = asyncio.ensure_future(batcher.ask(_question(1)))
    await settle()
    b = asyncio.ensure_future(batcher.ask(_question(2)))  # while a's round trip is under way
    await settle()
    assert [len(x) for x in db.batches] == [1, 1, 1] and batcher.out == 2  # both under way at once
    db.go.set()
    assert await asyncio.gather(a, b) == ["answer to key-1", "answer to key-2"]
    assert batcher.out == 0


async def test_a_failed_round_trip_fails_only_its_own_questions():
    db = Database(fail={1})
    batcher = batches.Batcher(db.round_trip, out=1)
    first = asyncio.ensure_future(batcher.ask(_question(0)))
    await settle()
    second = asyncio.ensure_future(batcher.ask(_question(1)))  # waits: goes out in the next round trip
    await settle()
    db.go.set()
    with pytest.raises(OSError):
        await first
    assert await second == "answer to key-1"
    assert await batcher.ask(_question(2)) == "answer to key-2"  # and it goes on


async def test_a_question_whose_request_went_away_does_not_stop_the_others():
    db = Database()
    batcher = batches.Batcher(db.round_trip, out=1)
    first = asyncio.ensure_future(batcher.ask(_question(0)))
    await settle()
    gone = asyncio.ensure_future(batcher.ask(_question(1)))
    kept = asyncio.ensure_future(batcher.ask(_question(2)))
    await settle()
    gone.cancel()  # the client left while its question waited
    db.go.set()
    assert await first == "answer to key-0" and await kept == "answer to key-2"
    assert gone.cancelled()


async def test_no_more_than_the_batch_limit_go_out_in_one_round_trip(monkeypatch):
    monkeypatch.setattr(batches, "BATCH_MAX", 3)
    db = Database()
    batcher = batches.Batcher(db.round_trip, out=1)
    first = asyncio.ensure_future(batcher.ask(_question(0)))
    await settle()
    rest = [asyncio.ensure_future(batcher.ask(_question(n))) for n in range(1, 8)]
    await settle()
    db.go.set()
    await asyncio.gather(first, *rest)
    assert [len(b) for b in db.batches] == [1, 3, 3, 1]
