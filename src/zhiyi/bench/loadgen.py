"""The rush's simulated patients: processes of asyncio tasks on aiohttp (keep-alive),
so the generator is not the bottleneck. Each patient, at the release instant, asks for the
earliest free time of a random doctor, tries another doctor when told "full", sometimes
retries a request with the same Idempotency-Key, and sometimes cancels what it got."""

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


# a record: (patient_index, kind, key, status, code, booking_id, slot_id, session_id, started, ended)
Record = tuple


async def _post(http: aiohttp.ClientSession, url: str, token: str, key: str | None, body: dict | None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    started = time.time()
    try:
        async with http.post(url, headers=headers, json=body) as r:
            data = await r.read()
            status = r.status
    except aiohttp.ClientError as exc:
        return 0, {"code": f"client_error:{type(exc).__name__}"}, started, time.time()
    try:
        payload = json.loads(data) if data else {}
    except ValueError:
        payload = {"code": "not_json"}
    return status, payload, started, time.time()


async def _patient(http, plan: Plan, rng: random.Random, index: int, token: str, out: list) -> None:
    url = plan.base_url + "/api/v1/scheduling/bookings"
    for sid in rng.sample(plan.session_ids, min(plan.max_tries, len(plan.session_ids))):
        key = uuid.uuid4().hex
        sends = 2 if rng.random() < plan.retry_rate else 1
        status, body = 0, {}
        for _ in range(sends):
            status, body, started, ended = await _post(http, url, token, key, {"session_id": sid})
            out.append((index, "book", key, status, body.get("code"), body.get("id"), body.get("slot_id"), sid,
                        started, ended))
        if status == 201:
            if rng.random() < plan.cancel_rate:
                c_status, c_body, started, ended = await _post(http, f"{url}/{body['id']}/cancel", token, None, None)
                out.append((index, "cancel", key, c_status, c_body.get("code"), body["id"], body.get("slot_id"), sid,
                            started, ended))
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
