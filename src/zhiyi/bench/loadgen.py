"""The rush's simulated patients: processes of asyncio tasks on aiohttp (keep-alive),
so the generator is not the bottleneck. Each patient, at the release instant, asks for the
earliest free time of a random doctor, tries another doctor when told "full", sometimes
retries a request with the same Idempotency-Key, and sometimes cancels what it got.

A request that gets no answer (connection refused or dropped, a truncated or late response:
the server was killed) is sent again, after a backoff and until the server is back, with the
same key and body, as a phone app would; the stored answer of an attempt that committed is
then replayed."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Plan:
    base_url: str
    session_ids: list[str]
    t0: float  # release instant, epoch seconds
    seed: int
    retry_rate: float
    cancel_rate: float
    max_tries: int
    give_up_s: float = 60.0  # how long one request is sent again while no answer comes


# a record, one per attempt: (patient_index, kind, key, status, code, booking_id, slot_id, session_id, started,
# ended, replayed). status 0: no answer (code "no_answer:..."; sent again) or, last, "gave_up:...".
Record = tuple
NO_ANSWER, GAVE_UP = "no_answer:", "gave_up:"


async def _post(http: aiohttp.ClientSession, url: str, token: str, key: str | None, body: dict | None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    started = time.time()
    try:
        async with http.post(url, headers=headers, json=body) as r:
            data = await r.read()
            status = r.status
            replayed = r.headers.get("Idempotent-Replayed") == "true"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, {"code": f"{NO_ANSWER}{type(exc).__name__}"}, started, time.time(), False
    if status == 503:  # busy (Retry-After): like a phone app, send the same request again shortly
        return 0, {"code": f"{NO_ANSWER}busy"}, started, time.time(), False
    try:
        payload = json.loads(data) if data else {}
    except ValueError:
        payload = {"code": "not_json"}
    return status, payload, started, time.time(), replayed


async def _answered(http, plan: Plan, url: str, token: str, key: str | None, body: dict | None, note) -> tuple[int, dict]:
    """Sends until an answer comes (or `give_up_s` passed), the same key and body every time;
    `note(status, payload, started, ended, replayed)` records each attempt."""
    give_up = time.time() + plan.give_up_s
    backoff = 0.05
    while True:
        status, payload, started, ended, replayed = await _post(http, url, token, key, body)
        if status == 0 and time.time() > give_up:
            payload = {"code": GAVE_UP + payload["code"].removeprefix(NO_ANSWER)}
        note(status, payload, started, ended, replayed)
        if status != 0 or payload["code"].startswith(GAVE_UP):
            return status, payload
        await asyncio.sleep(backoff * random.uniform(0.5, 1.5))  # jittered: a crowd must not return in step
        backoff = min(1.0, backoff * 2)


async def _patient(http, plan: Plan, rng: random.Random, index: int, token: str, out: list) -> None:
    url = plan.base_url + "/api/v1/scheduling/bookings"
    for sid in rng.sample(plan.session_ids, min(plan.max_tries, len(plan.session_ids))):
        key = uuid.uuid4().hex
        sends = 2 if rng.random() < plan.retry_rate else 1
        status, body = 0, {}

        def booked(st, b, started, ended, replayed, key=key, sid=sid):
            out.append((index, "book", key, st, b.get("code"), b.get("id"), b.get("slot_id"), sid, started, ended,
                        replayed))

        for _ in range(sends):
            status, body = await _answered(http, plan, url, token, key, {"session_id": sid}, booked)
            if status == 0:
                return  # gave up: this patient never learns the outcome (the checker sees it in the database)
        if status == 201:
            if rng.random() < plan.cancel_rate:
                def cancelled(st, b, started, ended, replayed, key=key, sid=sid, booking=body):
                    out.append((index, "cancel", key, st, b.get("code"), booking["id"], booking.get("slot_id"), sid,
                                started, ended, replayed))

                await _answered(http, plan, f"{url}/{body['id']}/cancel", token, None, None, cancelled)
            return
        if not (status == 409 and body.get("code") == "slot_full"):
            return  # an unexpected answer ends this patient's attempts; it is counted by the checker


async def warm(http: aiohttp.ClientSession, base_url: str, n: int) -> None:
    async def one():
        try:
            async with http.get(base_url + "/livez") as r:
                await r.read()
        except aiohttp.ClientError:
            pass

    await asyncio.gather(*[one() for _ in range(n)])


async def _run(plan: Plan, patients: list[tuple[int, str]], concurrency: int) -> list[Record]:
    out: list[Record] = []
    queue: asyncio.Queue = asyncio.Queue()
    for p in patients:
        queue.put_nowait(p)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await warm(http, plan.base_url, concurrency)  # connections open before the release, as a waiting crowd's
        await asyncio.sleep(max(0.0, plan.t0 - time.time()))

        async def client(n: int) -> None:
            rng = random.Random(plan.seed * 100_003 + n)
            while not queue.empty():
                index, token = queue.get_nowait()
                await _patient(http, plan, rng, index, token, out)

        await asyncio.gather(*[client(n) for n in range(concurrency)])
    return out


def run_process(plan: Plan, patients: list[tuple[int, str]], concurrency: int) -> list[Record]:
    return asyncio.run(_run(plan, patients, concurrency))


async def _trivial(base_url: str, concurrency: int, total: int) -> float:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        left = total

        async def worker():
            nonlocal left
            while left > 0:
                left -= 1
                async with http.get(base_url + "/livez") as r:
                    await r.read()

        await warm(http, base_url, concurrency)
        start = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return total / (time.perf_counter() - start)


def trivial_process(base_url: str, concurrency: int, total: int) -> float:
    return asyncio.run(_trivial(base_url, concurrency, total))
