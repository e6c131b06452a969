"""`zhiyi bench fhir`: the FHIR repository under load. A synthetic population (bench/fhir_population.py)
is loaded through transaction Bundles over HTTP into the real server (several workers), then a fixed
mix of searches runs against it; in the same run the anchor inserts the same resources' JSON straight
through the database driver, one INSERT per resource, executemany per Bundle, at the same concurrency.

Last line of output: one JSON object (see `run`)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.bench import cpu, loop
from zhiyi.bench import fhir_anchor as anchor
from zhiyi.bench import fhir_population as population
from zhiyi.bench.rush import _free_port, _with_db
from zhiyi.bench.scratch import scratch_database
from zhiyi.bench.server import Server
from zhiyi.core import clock, ids, security
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import service as identity
from zhiyi.domains.identity.models import Account, RefreshToken

SECRET = security.random_token(32)
FHIR = "/fhir"
HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
KINDS = (
    "patient_by_name",
    "observations_by_code_and_date",
    "conditions_by_code",
    "chained",
    "include",
    "revinclude",
    "everything",
)
INGEST_PER_CORE = 300.0  # resources/s per server core (HAPI's published figure is ~277 per vCPU)
INGEST_RATIO = 0.25


@dataclass
class Options:
    db: str
    patients: int = 1000
    per_patient: int = 100
    workers: int = 2
    concurrency: int = 8  # transaction Bundles in flight
    searches: int = 200  # of each kind
    search_concurrency: int = 4
    seed: int = 1
    keep: bool = False
    progress: bool = True


@dataclass
class Ingest:
    began: float = 0.0
    ended: float = 0.0
    resources: int = 0
    failures: int = 0
    first_failure: str | None = None
    loaded: list[tuple[str, population.PatientFacts]] = field(default_factory=list)  # (Patient id, facts)


async def seed_admin(session: AsyncSession, *, secret: str) -> str:
    """A group-wide admin account, signed in once, and its access token (minted here, as release.py
    mints the rush's, with the refresh-token row that keeps it standing)."""
    now = clock.now()
    aid, family = ids.new_id(), ids.new_id()
    await session.execute(
        insert(Account).values(
            id=aid,
            username="bench-fhir-admin",
            password_hash=security.hash_password("bench-not-for-login-1"),
            display_name="bench FHIR admin",
            roles=Role.admin.value,
            group_wide=True,
            created_at=now,
        )
    )
    await session.execute(
        insert(RefreshToken).values(
            id=ids.new_id(),
            account_id=aid,
            family_id=family,
            token_hash=hashlib.sha256(family.bytes).hexdigest(),
            issued_at=now,
            expires_at=now + dt.timedelta(days=3),
        )
    )
    actor = Actor(account_id=aid, roles=frozenset({Role.admin.value}), group_wide=True, display_name="bench")
    claims = identity.access_claims(actor=actor, version=0, family=family)
    return security.issue_jwt(secret, claims, ttl=dt.timedelta(days=2))


def _progress(opts: Options) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not opts.progress,
    )


def _failure(status: int, text: str) -> str:
    return f"{status}: {text[:2000]}"


def _transaction_failure(status: int, answer: dict | None, sent: int) -> str | None:
    """Why a transaction's answer is not a success for each of its `sent` entries (None: it is)."""
    if status != 200 or not isinstance(answer, dict):
        return _failure(status, json.dumps(answer, ensure_ascii=False))
    entries = answer.get("entry") or []
    if answer.get("resourceType") != "Bundle" or answer.get("type") != "transaction-response":
        return _failure(status, "not a transaction-response Bundle")
    if len(entries) != sent:
        return _failure(status, f"{len(entries)} entries answered for {sent} sent")
    for k, entry in enumerate(entries):
        said = str((entry.get("response") or {}).get("status", ""))
        if not said.startswith(("200", "201")):
            return _failure(status, f"entry {k} answered {said!r}: {json.dumps(entry, ensure_ascii=False)}")
    return None


def _patient_id(answer: dict) -> str | None:
    """The Patient's id from its entry's location ("Patient/<id>/_history/1", maybe absolute)."""
    first = answer["entry"][0]
    parts = str((first.get("response") or {}).get("location", "")).split("/")
    if "Patient" in parts and parts.index("Patient") + 1 < len(parts):
        return parts[parts.index("Patient") + 1]
    return (first.get("resource") or {}).get("id")


async def _post(http: aiohttp.ClientSession, url: str, bundle: dict) -> tuple[int, dict | None]:
    body = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        async with http.post(url, data=body) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, {"text": text[:2000]}
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, {"error": repr(exc)}


async def ingest(opts: Options, base: str, token: str, progress: Progress) -> Ingest:
    """The shared Bundle, then every patient's with `opts.concurrency` in flight."""
    out = Ingest()
    task = progress.add_task("ingest (Bundles)", total=opts.patients + 1)
    headers = {**HEADERS, "Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=opts.concurrency)
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as http:
        url = base + FHIR

        def failed(why: str) -> None:
            out.failures += 1
            out.first_failure = out.first_failure or why

        out.began = time.time()
        shared = population.shared_bundle(opts.seed)
        status, answer = await _post(http, url, shared)
        why = _transaction_failure(status, answer, len(shared["entry"]))
        if why:
            failed(why)
        else:
            out.resources += len(shared["entry"])
        progress.advance(task)
        following = iter(range(opts.patients))

        async def sender() -> None:
            for index in following:
                bundle, facts = population.patient_bundle(opts.seed, index, opts.per_patient)
                status, answer = await _post(http, url, bundle)
                why = _transaction_failure(status, answer, facts.resources)
                pid = None if why else _patient_id(answer)
                if why or pid is None:
                    failed(why or "no Patient id in the answer's first entry")
                else:
                    out.resources += facts.resources
                    out.loaded.append((pid, facts))
                progress.advance(task)

        await asyncio.gather(*(sender() for _ in range(opts.concurrency)))
        out.ended = time.time()
    out.loaded.sort(key=lambda loaded: loaded[1].index)
    return out


# --- the search mix -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Search:
    kind: str
    path: str
    params: tuple[tuple[str, str], ...]
    pid: str
    facts: population.PatientFacts


def plan_searches(loaded: list[tuple[str, population.PatientFacts]], n: int, seed: int) -> list[Search]:
    """`n` searches of each kind about patients and codes picked from what was loaded, shuffled."""
    rng = random.Random(f"searches-{seed}")
    plan = []
    for kind in KINDS:
        for _ in range(n):
            pid, facts = rng.choice(loaded)
            path, params = _search(kind, pid, facts, rng)
            plan.append(Search(kind, path, tuple(params), pid, facts))
    rng.shuffle(plan)
    return plan


def _search(kind: str, pid: str, facts: population.PatientFacts, rng: random.Random):
    if kind == "patient_by_name":
        return "Patient", [("name", facts.family[:3])]
    if kind == "observations_by_code_and_date":
        code, day = rng.choice(facts.observations)
        on = dt.date.fromisoformat(day)
        return "Observation", [
            ("subject", f"Patient/{pid}"),
            ("code", f"{population.LOINC}|{code}"),
            ("date", f"ge{on - dt.timedelta(days=30)}"),
            ("date", f"le{on + dt.timedelta(days=30)}"),
        ]
    if kind == "conditions_by_code":
        system, code = rng.choice(facts.conditions)
        return "Condition", [("code", f"{system}|{code}"), ("_count", "50")]
    if kind == "chained":
        code, _ = rng.choice(facts.observations)
        return "Observation", [("subject:Patient.name", facts.family), ("code", code)]
    if kind == "include":
        return "MedicationRequest", [
            ("subject", f"Patient/{pid}"),
            ("_include", "MedicationRequest:requester"),
        ]
    if kind == "revinclude":
        return "Patient", [("_id", pid), ("_revinclude", "Condition:subject")]
    return f"Patient/{pid}/$everything", []


def check_answer(search: Search, status: int, answer: dict | None) -> str | None:
    """What is wrong with a search's answer (None: nothing): a 200 searchset Bundle holding at least
    the matches (and the included resources) the loaded data must give."""
    if status != 200 or not isinstance(answer, dict):
        return _failure(status, json.dumps(answer, ensure_ascii=False))
    if answer.get("resourceType") != "Bundle" or answer.get("type") != "searchset":
        return "not a searchset Bundle"
    entries = answer.get("entry") or []

    def mode(entry: dict) -> str:
        return (entry.get("search") or {}).get("mode", "match")

    matches = [e["resource"] for e in entries if mode(e) == "match" and "resource" in e]
    included = [e["resource"] for e in entries if mode(e) == "include" and "resource" in e]
    kinds = {r.get("resourceType") for r in included}
    kind = search.kind
    if kind == "everything":
        everything = matches + included
        if not any(r.get("resourceType") == "Patient" and r.get("id") == search.pid for r in everything):
            return "$everything without its Patient"
        paged = any(link.get("relation") == "next" for link in answer.get("link") or [])
        if not paged and len(everything) < search.facts.resources:
            return f"$everything gave {len(everything)} resources of the {search.facts.resources} loaded"
        return None
    if not matches:
        return f"no match where {search.facts.index}'s data must give one"
    if kind == "include" and "Practitioner" not in kinds:
        return "no Practitioner included"
    if kind == "revinclude" and ("Condition" not in kinds or len(matches) != 1):
        return f"{len(matches)} Patients and included {sorted(kinds)}"
    return None


async def run_searches(
    opts: Options, base: str, token: str, plan: list[Search], progress: Progress, *, record: bool = True
) -> tuple[dict[str, list[float]], dict[str, int], str | None]:
    """Latencies (ms) and errors per kind, and the first error seen."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = dict.fromkeys(KINDS, 0)
    first: list[str] = []
    task = progress.add_task("searches" if record else "warm-up", total=len(plan))
    headers = {"Accept": "application/fhir+json", "Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=opts.search_concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    following = iter(plan)
    async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as http:

        async def searcher() -> None:
            for search in following:
                began = time.perf_counter()
                try:
                    async with http.get(f"{base}{FHIR}/{search.path}", params=list(search.params)) as answer:
                        text = await answer.text()
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, text = 0, json.dumps({"error": repr(exc)})
                took = (time.perf_counter() - began) * 1000
                try:
                    body = json.loads(text)
                except ValueError:
                    body = {"text": text[:2000]}
                latencies[search.kind].append(took)
                why = check_answer(search, status, body)
                if why:
                    errors[search.kind] += 1
                    if not first:
                        first.append(f"{search.kind} {search.path}?{search.params}: {why}")
                progress.advance(task)

        await asyncio.gather(*(searcher() for _ in range(max(1, opts.search_concurrency))))
    return latencies, errors, (first[0] if first else None)


def percentiles(latencies: list[float]) -> dict[str, float | int | None]:
    ordered = sorted(latencies)
    if not ordered:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "n": len(ordered),
    }


# --- the run --------------------------------------------------------------------------------------


def run(opts: Options, log=print) -> dict:
    """Loads, searches, measures the anchor; returns the result (`zhiyi bench fhir` prints it last)."""
    population.counts(opts.per_patient)  # refuses too few resources per patient before anything starts
    with scratch_database(opts.db, keep=opts.keep) as url:
        dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        if dialect == "sqlite" and opts.workers > 1:
            log("SQLite is the embedded tier: one server process")
            opts = dataclasses.replace(opts, workers=1)
        token = asyncio.run(_with_db(url, lambda s: seed_admin(s, secret=SECRET)))
        server = Server(url, secret=SECRET, workers=opts.workers, port=_free_port())
        log(f"starting the server: {opts.workers} workers on port {server.port} ({dialect})")
        server.start()
        try:
            log(
                f"ingest: {opts.patients} patients x {opts.per_patient} resources, "
                f"{opts.concurrency} Bundles in flight"
            )
            sampler = cpu.Sampler(lambda: server.proc.pid)
            sampler.mark()
            with _progress(opts) as progress:
                sampler.start()
                try:
                    loaded = loop.run(ingest(opts, server.base_url, token, progress))
                finally:
                    sampler.stop()
                log(f"ingest: {loaded.resources} resources in {loaded.ended - loaded.began:.1f} s")
                if loaded.failures:
                    log(f"ingest: {loaded.failures} transactions failed; the first: {loaded.first_failure}")
                if loaded.loaded:
                    log("VACUUM ANALYZE: the planner's statistics of the loaded tables")
                    anchor.analyze(url)
                    warm = plan_searches(loaded.loaded, opts.workers * 2, opts.seed + 1)
                    loop.run(run_searches(opts, server.base_url, token, warm, progress, record=False))
                    plan = plan_searches(loaded.loaded, opts.searches, opts.seed)
                    log(f"searches: {len(plan)}, {opts.search_concurrency} at a time")
                    latencies, search_errors, first_search = loop.run(
                        run_searches(opts, server.base_url, token, plan, progress)
                    )
                else:
                    latencies, search_errors, first_search = {}, dict.fromkeys(KINDS, opts.searches), None
        finally:
            server.stop()
        stored = anchor.stored_resources(url)
        log("anchor: the same resources inserted through the driver")
        load = anchor.Load(opts.seed, opts.patients, opts.per_patient, opts.concurrency)
        rows, secs = (
            loop.run(anchor.run_pg(url, load)) if dialect == "postgresql" else anchor.run_sqlite(url, load)
        )
    wall = loaded.ended - loaded.began
    used = sampler.between(loaded.began, loaded.ended)
    rate = loaded.resources / wall if wall > 0 else 0.0
    raw_rate = rows / secs if secs else 0.0
    cores = used["server"] / wall if used and wall > 0 else None
    searches = {
        kind: {**percentiles(latencies.get(kind, [])), "errors": search_errors[kind]} for kind in KINDS
    }
    p95_limit = 100.0 if opts.patients <= 1000 else 300.0
    if first_search:
        log(f"searches: the first error: {first_search}")
    result = {
        "db": dialect,
        "patients": opts.patients,
        "per_patient": opts.per_patient,
        "resources": loaded.resources,
        "stored_resources": stored,
        "ingest_s": round(wall, 2),
        "ingest_resources_per_s": round(rate, 1),
        "raw_insert_rows_per_s": round(raw_rate, 1),
        "ingest_ratio": round(rate / raw_rate, 3) if raw_rate else None,
        "cpu_ms_per_resource": round(used["server"] * 1000 / loaded.resources, 3)
        if used and loaded.resources
        else None,
        "db_cpu_ms_per_resource": round(used["db"] * 1000 / loaded.resources, 3)
        if used and loaded.resources and dialect == "postgresql"
        else None,
        "server_cores_used": round(cores, 2) if cores is not None else None,
        "ingest_resources_per_s_per_core": round(rate / cores, 1) if cores else None,
        "workers": opts.workers,
        "concurrency": opts.concurrency,
        "search_concurrency": opts.search_concurrency,
        "searches": searches,
        # failed transactions, resources answered as written but not stored (or stored twice), searches
        # answered wrongly
        "errors": loaded.failures + abs(loaded.resources - stored) + sum(search_errors.values()),
        "ingest_failures": loaded.failures,
        "first_failure": loaded.first_failure,
        "first_search_error": first_search,
    }
    result["targets_met"] = {
        "ingest_ratio": bool(raw_rate) and rate / raw_rate >= INGEST_RATIO,
        "ingest_per_core": bool(cores) and rate / cores >= INGEST_PER_CORE,
        f"search_p95_under_{p95_limit:g}ms": all(
            s["p95_ms"] is not None and s["p95_ms"] < p95_limit for s in searches.values()
        ),
    }
    return result
