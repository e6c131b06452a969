"""The rush's simulated patients: processes of asyncio tasks on aiohttp (keep-alive) and uvloop,
so the generator is not the bottleneck. Each patient, at the release instant, asks for the
earliest free time of a random doctor, tries another doctor when told "full", sometimes
retries a request with the same Idempotency-Key, and sometimes cancels what it got (a little
later, as people who change their minds do).

A share of the patients told "full" join that session's waiting list (a 409 `places_available`
means a place is free again: they book once more instead). Having tried every doctor they
meant to, they look at their offers now and then (GET /waitlist/mine, jittered), accept an
offered place with an Idempotency-Key (or decline a share of them: the place goes to the next
in line; or, another share, stop looking: the hold runs out) and leave their other lines. They
stop looking `linger_s` after their process's rush is over (every booking attempt and
cancellation done). Patients who book while waiting leave their lines. Cancellations and
waiting run beside the booking clients, on connections of their own, so a waiting patient does
not hold up the next patient's booking.

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
from collections.abc import Coroutine
from dataclasses import dataclass

import aiohttp

from zhiyi.bench import loop

BOOKINGS, WAITLIST = "/api/v1/scheduling/bookings", "/api/v1/scheduling/waitlist"
LIVE = ("waiting", "offered")  # entries still in a line


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
    waitlist_rate: float = 0.0  # share of patients who, told "full", join that session's waiting list
    decline_rate: float = 0.0  # share of offers declined (the place goes to the next in line)
    ignore_rate: float = 0.0  # share of offers whose patient stops looking instead (the hold runs out)
    cancel_after_s: float = (
        0.0  # a cancelling patient cancels this long (x 0.5..1.5) after booking; 0: at once
    )
    poll_s: float = 2.0  # a waiting patient looks at its offers this often (x 0.5..1.5)
    linger_s: float = 5.0  # and stops this long after its process's rush is over
    wait_cap_s: float = 900.0  # or this long after it began waiting, whatever comes first


# a record, one per attempt: (patient_index, kind, key, status, code, target, slot_id, session_id, started,
# ended, replayed). status 0: no answer (code "no_answer:..."; sent again) or, last, "gave_up:...".
# kind and target: "book" / "accept" (key: the Idempotency-Key sent; target: the booking in the answer),
# "cancel" (key: the booking's; target: the booking cancelled), "join" (target: the entry in the answer),
# "decline" / "leave" (target: the entry), "poll" (GET /waitlist/mine). The key of a join, decline or
# leave names its attempts only (no Idempotency-Key is sent).
Record = tuple
NO_ANSWER, GAVE_UP = "no_answer:", "gave_up:"


async def _send(
    http: aiohttp.ClientSession, method: str, url: str, token: str, key: str | None, body: dict | None
):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    started = time.time()
    try:
        async with http.request(method, url, headers=headers, json=body) as r:
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


async def _answered(
    http, plan: Plan, url: str, token: str, key: str | None, body: dict | None, note
) -> tuple[int, dict]:
    """Sends until an answer comes (or `give_up_s` passed), the same key and body every time;
    `note(status, payload, started, ended, replayed)` records each attempt."""
    give_up = time.time() + plan.give_up_s
    backoff = 0.05
    while True:
        status, payload, started, ended, replayed = await _send(http, "POST", url, token, key, body)
        if status == 0 and time.time() > give_up:
            payload = {"code": GAVE_UP + payload["code"].removeprefix(NO_ANSWER)}
        note(status, payload, started, ended, replayed)
        if status != 0 or payload["code"].startswith(GAVE_UP):
            return status, payload
        await asyncio.sleep(backoff * random.uniform(0.5, 1.5))  # jittered: a crowd must not return in step
        backoff = min(1.0, backoff * 2)


class Crowd:
    """One process's patients: the booking clients' connections, and the connections of the
    patients who cancel later or wait (tasks beside the clients)."""

    def __init__(
        self, plan: Plan, http: aiohttp.ClientSession, side: aiohttp.ClientSession, out: list
    ) -> None:
        self.plan, self.http, self.side, self.out = plan, http, side, out
        self.later: set[asyncio.Task] = set()  # cancellations still to come: the rush is not over
        self.beside: set[asyncio.Task] = set()  # waiting patients, patients leaving their lines
        self.over_at: float | None = None  # every booking attempt and cancellation of this process done

    def spawn(self, coro: Coroutine, *, later: bool = False) -> None:
        tasks = self.later if later else self.beside
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def note(
        self,
        index: int,
        kind: str,
        key: str,
        sid: str | None,
        target: str | None = None,
        slot: str | None = None,
    ):
        def note(st, b, started, ended, replayed):
            self.out.append(
                (
                    index,
                    kind,
                    key,
                    st,
                    b.get("code"),
                    target or b.get("id"),
                    slot or b.get("slot_id"),
                    sid,
                    started,
                    ended,
                    replayed,
                )
            )

        return note

    def waiting_over(self) -> bool:
        return self.over_at is not None and time.time() > self.over_at + self.plan.linger_s

    async def book(self, rng: random.Random, index: int, token: str, sid: str) -> tuple[int, dict, str]:
        """One booking (sent twice with the same key by a share of patients): (status, answer, key);
        status 0: given up."""
        key = uuid.uuid4().hex
        sends = 2 if rng.random() < self.plan.retry_rate else 1
        status, body = 0, {}
        for _ in range(sends):
            status, body = await _answered(
                self.http,
                self.plan,
                self.plan.base_url + BOOKINGS,
                token,
                key,
                {"session_id": sid},
                self.note(index, "book", key, sid),
            )
            if status == 0:
                break
        return status, body, key

    async def cancel(self, index: int, token: str, booking: dict, *, delay: float) -> None:
        await asyncio.sleep(delay)
        http = self.side if delay else self.http
        await _answered(
            http,
            self.plan,
            f"{self.plan.base_url}{BOOKINGS}/{booking['id']}/cancel",
            token,
            None,
            None,
            self.note(
                index,
                "cancel",
                booking["key"],
                booking.get("session_id"),
                booking["id"],
                booking.get("slot_id"),
            ),
        )

    async def join(self, index: int, token: str, sid: str) -> tuple[int, dict]:
        return await _answered(
            self.http,
            self.plan,
            self.plan.base_url + WAITLIST,
            token,
            None,
            {"session_id": sid},
            self.note(index, "join", uuid.uuid4().hex, sid),
        )

    async def entries(self, index: int, token: str) -> list[dict] | None:
        """This patient's waiting-list entries, or None when no answer came."""
        status, body, started, ended, _ = await _send(
            self.side, "GET", self.plan.base_url + WAITLIST + "/mine", token, None, None
        )
        entries = body if status == 200 and isinstance(body, list) else None
        self.note(index, "poll", "", None)(
            status, body if isinstance(body, dict) else {}, started, ended, False
        )
        return entries

    async def leave(self, index: int, token: str, entry: dict, kind: str = "leave") -> tuple[int, dict]:
        return await _answered(
            self.side,
            self.plan,
            f"{self.plan.base_url}{WAITLIST}/{entry['id']}/{kind}",
            token,
            None,
            None,
            self.note(index, kind, uuid.uuid4().hex, entry["session_id"], entry["id"], entry.get("slot_id")),
        )

    async def accept(
        self, rng: random.Random, index: int, token: str, entry: dict, key: str
    ) -> tuple[int, dict]:
        """Accepts an offer like a booking: the same key on every resend, sent twice by a share of
        patients."""
        sends = 2 if rng.random() < self.plan.retry_rate else 1
        status, body = 0, {}
        for _ in range(sends):
            status, body = await _answered(
                self.side,
                self.plan,
                f"{self.plan.base_url}{WAITLIST}/{entry['id']}/accept",
                token,
                key,
                None,
                self.note(index, "accept", key, entry["session_id"]),
            )
            if status == 0:
                break
        return status, body


def _full(status: int, body: dict) -> bool:
    return status == 409 and body.get("code") == "slot_full"


async def _patient(crowd: Crowd, rng: random.Random, index: int, token: str) -> None:
    plan = crowd.plan
    waits = rng.random() < plan.waitlist_rate
    joined = False
    for sid in rng.sample(plan.session_ids, min(plan.max_tries, len(plan.session_ids))):
        status, body, key = await crowd.book(rng, index, token, sid)
        for _ in range(
            2
        ):  # told "full", a patient who waits joins the line; "places available": book once more
            if not (waits and _full(status, body)):
                break
            st, answer = await crowd.join(index, token, sid)
            # "already waiting" can only follow an attempt that got no answer: that attempt joined
            if st == 201 or (st == 409 and answer.get("code") == "already_waiting"):
                joined = True
                break
            if not (st == 409 and answer.get("code") == "places_available"):
                break
            status, body, key = await crowd.book(rng, index, token, sid)
        if status == 0:
            return  # gave up: this patient never learns the outcome (the checker sees it in the database)
        if status == 201:
            if joined:
                crowd.spawn(_leave_lines(crowd, index, token))
            if rng.random() < plan.cancel_rate:
                booking = {**body, "key": key, "session_id": sid}
                delay = plan.cancel_after_s * rng.uniform(0.5, 1.5)
                if delay:
                    crowd.spawn(crowd.cancel(index, token, booking, delay=delay), later=True)
                else:
                    await crowd.cancel(index, token, booking, delay=0.0)
            return
        if not _full(status, body):
            return  # an unexpected answer ends this patient's attempts; it is counted by the checker
    if joined:
        crowd.spawn(_wait(crowd, random.Random(plan.seed * 1_000_003 + index), index, token))


async def _leave_lines(crowd: Crowd, index: int, token: str) -> None:
    """Booked elsewhere: leave every line (a held place is declined and goes to the next)."""
    for _ in range(10):
        entries = await crowd.entries(index, token)
        if entries is not None:
            for e in entries:
                if e["status"] in LIVE:
                    await crowd.leave(index, token, e)
            return
        await asyncio.sleep(random.uniform(0.5, 1.5))


async def _wait(crowd: Crowd, rng: random.Random, index: int, token: str) -> None:
    """Looks at the offers now and then until the rush is over: accepts the first one (or declines a
    share of them, or stops looking at a share of them), then leaves the other lines."""
    plan = crowd.plan
    keys: dict[str, str] = {}  # entry -> the Idempotency-Key of its acceptance, the same on every try
    declined: set[str] = set()  # entries this patient declined: not left again after an acceptance
    stop = time.time() + plan.wait_cap_s
    while time.time() < stop and not crowd.waiting_over():
        await asyncio.sleep(plan.poll_s * rng.uniform(0.5, 1.5))
        entries = await crowd.entries(index, token)
        if entries is None:
            continue
        live = [e for e in entries if e["status"] in LIVE]
        if not live:
            return
        for e in live:
            if e["status"] != "offered":
                continue
            if e["id"] not in keys:
                choice = rng.random()
                if choice < plan.ignore_rate:
                    return  # stops looking: its holds run out
                if choice < plan.ignore_rate + plan.decline_rate:
                    await crowd.leave(index, token, e, "decline")
                    declined.add(e["id"])
                    continue
            status, _ = await crowd.accept(rng, index, token, e, keys.setdefault(e["id"], uuid.uuid4().hex))
            if status == 201:
                for other in live:
                    if other is not e and other["id"] not in declined:
                        await crowd.leave(index, token, other)
                return
            if status == 0:
                return  # gave up


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
    timeout = aiohttp.ClientTimeout(total=120)

    def connector() -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=300)

    async with (
        aiohttp.ClientSession(connector=connector(), timeout=timeout) as http,
        aiohttp.ClientSession(connector=connector(), timeout=timeout) as side,
    ):
        crowd = Crowd(plan, http, side, out)
        # connections open before the release, as a waiting crowd's
        await warm(http, plan.base_url, concurrency)
        await asyncio.sleep(max(0.0, plan.t0 - time.time()))

        async def client(n: int) -> None:
            rng = random.Random(plan.seed * 100_003 + n)
            while not queue.empty():
                index, token = queue.get_nowait()
                await _patient(crowd, rng, index, token)

        await asyncio.gather(*[client(n) for n in range(concurrency)])
        while crowd.later:
            await asyncio.gather(*list(crowd.later))
        crowd.over_at = time.time()
        while crowd.beside:
            await asyncio.gather(*list(crowd.beside))
    return out


def run_process(plan: Plan, patients: list[tuple[int, str]], concurrency: int) -> list[Record]:
    return loop.run(_run(plan, patients, concurrency))  # uvloop (see bench/loop.py)


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
    return loop.run(_trivial(base_url, concurrency, total))
