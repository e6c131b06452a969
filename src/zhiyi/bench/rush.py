"""`zhiyi bench rush`: a registration rush against the real server (several workers), checked
for anomalies in the database afterwards, with the database's own limit measured in the
same run (the anchor) and a no-op endpoint for diagnosis.

Simulated patients told "full" join waiting lists, accept (or decline) the places offered to them when
others cancel, and the holds still open when the rush is over are made to run out so that the server's
sweep passes them on; the checks hold the database to bookings, held places and what every patient was told.

Last line of output: one JSON object (see issue 4 for the fields)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import socket
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from sqlalchemy import func, select, update

from zhiyi.bench import cpu, loadgen, loop, raw
from zhiyi.bench.checks import (  # noqa: F401  (the tests ask rush._lost, _errors, _outage, _cancelled)
    CLOSED_BY,
    _cancelled,
    _check,
    _error_records,
    _errors,
    _lost,
    _outage,
)
from zhiyi.bench.release import Release, reset_release, seed_release
from zhiyi.bench.scratch import scratch_database
from zhiyi.bench.server import POOL_PER_WORKER, KillAt, Server
from zhiyi.core import clock, security
from zhiyi.core.config import Settings
from zhiyi.core.db import Database
from zhiyi.domains.scheduling.models import ClinicSession, WaitlistEntry
from zhiyi.domains.scheduling.rush import batches

SECRET = security.random_token(32)


@dataclass
class Options:
    db: str
    clients: int = 500
    doctors: int = 20
    slots: int = 50
    patients: int = 5000
    workers: int = 2
    procs: int = 2
    seed: int = 1
    retry_rate: float = 0.10
    cancel_rate: float = 0.05
    max_tries: int = 3
    lead_s: float = 2.0
    keep: bool = False
    kill_at: float | None = None  # seconds after the release: SIGKILL the server's process group, restart it
    trivial_requests: int = 4000  # per load-generator process
    draw_seconds: float = (
        0.0  # the release draw's window (0: first come, first served, the raw anchor's rule)
    )
    waitlist_rate: float = 0.05  # share of patients who, told "full", join that session's waiting list
    decline_rate: float = 0.1  # share of offers declined (the place goes to the next in line)
    ignore_rate: float = (
        0.1  # share of offers whose patients stop looking (their holds run out after the rush)
    )
    cancel_after_s: float = 10.0  # cancelling patients cancel this long (x 0.5..1.5) after booking
    poll_s: float = 5.0  # waiting patients look at their offers this often (x 0.5..1.5) ...
    linger_s: float = 10.0  # ... until this long after their load generator's rush is over
    hold_minutes: int = 10  # the server's waitlist_hold_minutes: long enough to see and accept an offer
    sweep_seconds: float = 1.0  # the server's waitlist_sweep_seconds (expired holds are passed on this soon)
    run_out_holds: bool = (
        True  # after the rush, the holds still open run out and the server's sweep passes them on
    )
    bare: bool = (
        False  # rush a bare FastAPI + asyncpg endpoint (bench/bare.py) instead of Zhiyi: a calibration
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _with_db(url: str, fn):
    db = Database(Settings(database_url=url, secret_key=SECRET))
    try:
        async with db.sessionmaker() as s:
            result = await fn(s)
            await s.commit()
            return result
    finally:
        await db.dispose()


def _run_clients(opts: Options, release: Release, base_url: str, t0: float) -> list[loadgen.Record]:
    plan = loadgen.Plan(
        base_url=base_url,
        session_ids=release.session_ids,
        t0=t0,
        seed=opts.seed,
        retry_rate=opts.retry_rate,
        cancel_rate=opts.cancel_rate,
        max_tries=opts.max_tries,
        waitlist_rate=opts.waitlist_rate,
        decline_rate=opts.decline_rate,
        ignore_rate=opts.ignore_rate,
        cancel_after_s=opts.cancel_after_s,
        poll_s=opts.poll_s,
        linger_s=opts.linger_s,
    )
    people = list(enumerate(release.tokens))
    shares = [people[i :: opts.procs] for i in range(opts.procs)]
    with ProcessPoolExecutor(opts.procs, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(loadgen.run_process, plan, share, max(1, opts.clients // opts.procs))
            for share in shares
        ]
        return [r for f in futures for r in f.result()]


def _trivial(opts: Options, base_url: str) -> float:
    with ProcessPoolExecutor(opts.procs, mp_context=get_context("spawn")) as pool:
        per_proc = max(1, opts.clients // opts.procs)
        futures = [
            pool.submit(loadgen.trivial_process, base_url, per_proc, opts.trivial_requests)
            for _ in range(opts.procs)
        ]
        return sum(f.result() for f in futures)


async def _run_out_holds(url: str, timeout: float = 30.0) -> tuple[int, int]:
    """Every hold still open runs out now: its end is moved to the past, as if the hold time had
    passed with nobody answering. The server's sweep (`expire_holds`, every `sweep_seconds` in each
    worker) must expire each and pass its place to the next in line or back on sale. Returns (holds
    made to run out, holds still overdue when `timeout` passed)."""
    db = Database(Settings(database_url=url, secret_key=SECRET))
    try:
        async with db.sessionmaker() as s:
            ran_out = (
                await s.execute(
                    update(WaitlistEntry)
                    .where(WaitlistEntry.status == "offered")
                    .values(hold_expires_at=clock.now() - dt.timedelta(seconds=1))
                    .returning(WaitlistEntry.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            await s.commit()
        deadline = time.monotonic() + timeout
        while True:
            async with db.sessionmaker() as s:
                overdue = await s.scalar(
                    select(func.count())
                    .select_from(WaitlistEntry)
                    .where(WaitlistEntry.status == "offered", WaitlistEntry.hold_expires_at <= clock.now())
                )
            if not overdue or time.monotonic() > deadline:
                return len(ran_out), int(overdue or 0)
            await asyncio.sleep(0.25)
    finally:
        await db.dispose()


def run(opts: Options, log=print) -> dict:
    with scratch_database(opts.db, keep=opts.keep) as url:
        dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        log(f"seeding {opts.doctors} doctors x {opts.slots} slots, {opts.patients} patients ({dialect})")
        far = clock.now() + dt.timedelta(hours=1)
        release = asyncio.run(
            _with_db(
                url,
                lambda s: seed_release(
                    s,
                    secret=SECRET,
                    doctors=opts.doctors,
                    slots_per_doctor=opts.slots,
                    patients=opts.patients,
                    release_at=far,
                ),
            )
        )
        port = _free_port()
        if opts.bare:
            if dialect != "postgresql":
                raise ValueError(
                    "--bare runs the anchor's PostgreSQL statements: give a postgresql:// database"
                )
            log(
                "bare FastAPI + asyncpg endpoint: no retries, cancellations or waiting lists "
                "(it serves bookings only)"
            )
            opts.retry_rate = opts.cancel_rate = opts.waitlist_rate = 0.0
            opts.run_out_holds = False
        if dialect == "sqlite" and opts.workers > 1:
            log("SQLite is the embedded tier: one server process")
            opts.workers = 1
        log(f"starting the server: {opts.workers} workers on port {port}")
        server = Server(
            url,
            secret=SECRET,
            workers=opts.workers,
            port=port,
            draw_seconds=opts.draw_seconds,
            hold_minutes=opts.hold_minutes,
            sweep_seconds=opts.sweep_seconds,
            # the bare calibration runs on uvicorn as it comes: what the framework alone reaches
            **({"app": "zhiyi.bench.bare:make_app", "http": None} if opts.bare else {}),
        )
        server.start()
        base = server.base_url
        try:
            t0 = time.time() + opts.lead_s + 3.0
            at = dt.datetime.fromtimestamp(t0, dt.UTC)
            asyncio.run(_with_db(url, lambda s: s.execute(update(ClinicSession).values(release_at=at))))
            kill = f", SIGKILL to the server {opts.kill_at:g} s after it" if opts.kill_at is not None else ""
            log(f"rush: {opts.clients} clients, release in {t0 - time.time():.1f} s{kill}")
            killer = KillAt(server, t0 + opts.kill_at, log).start() if opts.kill_at is not None else None
            sampler = cpu.Sampler(lambda: server.proc.pid)  # the server's group (a restart makes a new one)
            sampler.start()
            try:
                records = _run_clients(opts, release, base, t0)
            finally:
                sampler.stop()
                restarts = killer.finish() if killer else 0
            ran_out, overdue = 0, 0
            if opts.run_out_holds:
                ran_out, overdue = asyncio.run(_run_out_holds(url))
                log(f"{ran_out} holds still open ran out; {overdue} still overdue after the server's sweeps")
            log("trivial endpoint")
            trivial = _trivial(opts, base)
        finally:
            server.stop()
        checks = asyncio.run(_with_db(url, lambda s: _check(s, records, release.account_ids)))
        wrong = collections.Counter(
            (r[1], r[3], r[4], checks["entry_status"].get(r[5], "-") if r[1] in CLOSED_BY else "-")
            for r in _error_records(records, checks["entry_status"])
        )
        for (kind, status, code, entry_now), count in wrong.most_common():
            log(f"error: {kind} answered {status} {code} (entry now {entry_now}) x{count}")
        books = [r for r in records if r[1] == "book" and r[3] != 0]
        decisions = [r for r in books if r[3] == 201 or (r[3] == 409 and r[4] == "slot_full")]
        end = max((r[9] for r in records if r[1] == "book"), default=t0)  # the rush's last booking answer
        latencies = sorted((r[9] - r[8]) * 1000 for r in books)
        sold = [r[9] for r in books if r[3] == 201]
        # every place was taken once
        sellout = (max(sold) - t0) if sold and checks["unsold_sessions"] == 0 else None
        log("anchor: the same statements straight through the driver")
        asyncio.run(_with_db(url, reset_release))
        people = list(zip(release.patient_ids, release.account_ids, strict=True))
        usual_rate, single_rate, anchor_cpu = None, None, None
        if dialect == "postgresql":

            def anchor(short: bool, batched: bool = True) -> tuple[int, float]:
                # as many connections, and batches of short questions under way, as the server's workers have
                return loop.run(
                    raw.run_pg(
                        url,
                        people=people,
                        session_ids=release.session_ids,
                        concurrency=opts.clients,
                        pool_size=opts.workers * POOL_PER_WORKER,
                        seed=opts.seed,
                        max_tries=opts.max_tries,
                        short=short,
                        batched=batched,
                        batches_out=opts.workers * batches.BATCHES_OUT,
                    )
                )

            # every attempt through the whole transaction (earlier sessions' anchor)
            n, secs = anchor(short=False)
            usual_rate = n / secs if secs else 0.0
            asyncio.run(_with_db(url, reset_release))
            # short questions one by one, bookings the whole transaction (before the server batched them)
            n, secs = anchor(short=True, batched=False)
            single_rate = n / secs if secs else 0.0
            asyncio.run(_with_db(url, reset_release))
            # the anchor's clients are this very process; its database connections end with it, so
            # they are read while it runs
            probe = cpu.Sampler(lambda: -1, every=0.1)
            probe.mark()
            probe.start()
            began, own_before = time.time(), time.process_time()
            # the server's statements: its short questions for sessions seen sold out and its one-statement
            # bookings, batched as it asks them
            n, secs = anchor(short=True)
            own, ended = time.process_time() - own_before, time.time()
            probe.stop()
            used = probe.between(began, ended)
            anchor_cpu = cpu.per_decision(
                used and {"db": used["db"], "clients": own}, n, parties=("db", "clients")
            )
        else:
            n, secs = raw.run_sqlite(
                url.split(":///", 1)[1],
                patient_ids=release.patient_ids,
                session_ids=release.session_ids,
                seed=opts.seed,
                max_tries=opts.max_tries,
            )
        raw_rate = n / secs if secs else 0.0
        rate = len(decisions) / (end - t0) if end > t0 else 0.0
        return {
            "db": dialect,
            "server": "bare" if opts.bare else "zhiyi",
            "clients": opts.clients,
            "slots": release.slots,
            "requests": len(books),
            "booked": checks["booked"],
            "overbooked": checks["overbooked"],
            "duplicates": checks["duplicates"],
            "lost": checks["lost"],
            "phantom": checks["phantom"],
            "false_full": checks["false_full"],
            "counter_mismatch": checks["counter_mismatch"],
            "errors": _errors(records, checks["entry_status"]),
            "decisions_per_s": round(rate, 1),
            "sellout_s": round(sellout, 3) if sellout is not None else None,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
            "raw_db_decisions_per_s": round(raw_rate, 1),
            "ratio_to_db": round(rate / raw_rate, 3) if raw_rate else None,
            # the anchor without the short question (every "full" a whole transaction), as before
            # migration 0010
            "raw_db_usual_decisions_per_s": round(usual_rate, 1) if usual_rate else None,
            "ratio_to_usual": round(rate / usual_rate, 3) if usual_rate else None,
            # the anchor asking its short questions one by one, as before the server batched them
            "raw_db_single_decisions_per_s": round(single_rate, 1) if single_rate else None,
            "ratio_to_single": round(rate / single_rate, 3) if single_rate else None,
            "trivial_rps": round(trivial, 1),
            "workers": opts.workers,
            "rush_lane": server.lane,  # ZHIYI_RUSH_LANE as the server read it
            "draw_seconds": opts.draw_seconds,
            "retry_rate": opts.retry_rate,
            "cancel_rate": opts.cancel_rate,
            "waitlist_rate": opts.waitlist_rate,
            "kill_at": opts.kill_at,
            "restarts": restarts,
            **_outage(records),
            "waitlisted": checks["waitlisted"],
            "offers": checks["offers"],
            "accepted": checks["accepted"],
            "declined": checks["declined"],
            "expired": checks["expired"],
            "held": checks["held"],
            "holds_run_out": ran_out,
            "holds_overdue": overdue,
            # every attempt the clients made, by kind (the waiting patients' polls share the server with
            # the rush)
            "attempts": dict(collections.Counter(r[1] for r in records)),
            # CPU per decision of each party from the release instant to the end of the rush (its waiting
            # patients' polls included); on one machine they share the cores, so the sum bounds decisions/s
            "cpu_ms_per_decision": cpu.per_decision(sampler.between(t0, end), len(decisions)),
            "anchor_cpu_ms_per_decision": anchor_cpu,
        }
