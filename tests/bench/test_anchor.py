"""The bench's anchor drives the server's statements straight through the driver, its short
question for sessions seen sold out and its one-statement own booking included (PostgreSQL): one
patient at a time, the short way, the one statement and the usual way reach the same decisions and
sell every place once."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from sqlalchemy import func, select

from zhiyi.bench import bare, raw
from zhiyi.bench.release import reset_release, seed_release
from zhiyi.bench.rush import SECRET, _with_db
from zhiyi.bench.scratch import install_anchor_statements
from zhiyi.core import clock, migrate
from zhiyi.core.idempotency import IdempotencyRecord
from zhiyi.domains.scheduling.models import Booking


def test_the_short_and_the_usual_anchor_decide_alike(backend, fresh_db_url):
    if backend.name != "postgresql":
        pytest.skip("the anchor's short question is a PostgreSQL function")
    migrate.upgrade(fresh_db_url)
    install_anchor_statements(fresh_db_url)
    release = asyncio.run(
        _with_db(
            fresh_db_url,
            lambda s: seed_release(
                s,
                secret=SECRET,
                doctors=2,
                slots_per_doctor=3,
                patients=12,
                release_at=clock.now() - dt.timedelta(minutes=1),
            ),
        )
    )
    people = list(zip(release.patient_ids, release.account_ids, strict=True))
    outcomes = []
    # the usual way; the short questions one by one; the short questions and the one-statement bookings in
    # batches (as the server asks them)
    for short, batched in ((False, False), (True, False), (True, True)):
        asyncio.run(_with_db(fresh_db_url, reset_release))
        decisions, _ = asyncio.run(
            raw.run_pg(
                fresh_db_url,
                people=people,
                session_ids=release.session_ids,
                concurrency=1,
                pool_size=1,
                seed=3,
                max_tries=2,
                short=short,
                batched=batched,
            )
        )
        booked = asyncio.run(
            _with_db(fresh_db_url, lambda s: s.scalar(select(func.count()).select_from(Booking)))
        )
        kept = asyncio.run(
            _with_db(
                fresh_db_url,
                lambda s: s.scalar(
                    select(func.count())
                    .select_from(IdempotencyRecord)
                    .where(IdempotencyRecord.status_code != 201)
                ),
            )
        )
        outcomes.append((decisions, booked, kept))
    # 6 places for 12 patients trying 2 sessions each: 6 bookings, and 6 patients told "full" twice
    # (the short way asks about a session it saw sold out: a failing question would raise here), and
    # no question leaves a claim behind
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[1][1] == 6 and outcomes[1][0] >= 6 + 2 * 6 and outcomes[1][2] == 0


async def test_the_bare_calibration_endpoint_books_and_answers_full(backend, fresh_db_url, monkeypatch):
    """`--bare` rushes bench/bare.py: the anchor's statements behind one FastAPI route. It must book
    under the client's key, answer "full" once a session is sold out (the short question included)
    and refuse a token it cannot check."""
    if backend.name != "postgresql":
        pytest.skip("the bare endpoint runs the anchor's PostgreSQL statements")
    await asyncio.to_thread(migrate.upgrade, fresh_db_url)
    await asyncio.to_thread(install_anchor_statements, fresh_db_url)
    release = await _with_db(
        fresh_db_url,
        lambda s: seed_release(
            s,
            secret=SECRET,
            doctors=1,
            slots_per_doctor=1,
            patients=3,
            release_at=clock.now() - dt.timedelta(minutes=1),
        ),
    )
    monkeypatch.setenv("ZHIYI_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("ZHIYI_SECRET_KEY", SECRET)
    monkeypatch.setenv("ZHIYI_DB_POOL_SIZE", "1")
    app = bare.make_app()
    body = {"session_id": release.session_ids[0]}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        answers = [
            await client.post(
                bare.PATH,
                json=body,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"bare-key-{i}"},
            )
            for i, token in enumerate(release.tokens)
        ]
        forged = await client.post(
            bare.PATH, json=body, headers={"Authorization": "Bearer x.y.z", "Idempotency-Key": "bare-key-9"}
        )
    assert [a.status_code for a in answers] == [201, 409, 409] and forged.status_code == 401
    assert [a.json().get("code") for a in answers[1:]] == ["slot_full", "slot_full"]
    stored = await _with_db(fresh_db_url, lambda s: s.execute(select(Booking.id)))
    assert [str(b) for b in stored.scalars()] == [answers[0].json()["id"]]
    keys = await _with_db(fresh_db_url, lambda s: s.execute(select(IdempotencyRecord.key)))
    assert list(keys.scalars()) == ["bare-key-0"]
