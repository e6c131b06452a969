"""The anchor of `zhiyi bench fhir`: the resources the server was sent (rebuilt from the seed, ids
given and `urn:uuid:` references resolved here, as a server stores them), inserted straight through the
database driver into a scratch table of the same database: one INSERT per resource, one executemany per
Bundle and a commit, on as many connections as the ingest had Bundles in flight. Only the inserting is
timed (the rows are made a chunk of Bundles ahead), so its rows/s are the database's and the driver's
own."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from zhiyi.bench import fhir_population as population

PG_TABLE = "CREATE TABLE bench_raw_resource (id bigserial PRIMARY KEY, type text, rid text, content jsonb)"
SQLITE_TABLE = "CREATE TABLE bench_raw_resource (id INTEGER PRIMARY KEY, type text, rid text, json text)"
PG_INSERT = "INSERT INTO bench_raw_resource (type, rid, content) VALUES (%s, %s, %s::jsonb)"
SQLITE_INSERT = "INSERT INTO bench_raw_resource (type, rid, json) VALUES (?, ?, ?)"
CHUNK = 200  # Bundles made ahead of each timed stretch

Rows = list[tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class Load:
    seed: int
    patients: int
    per_patient: int
    concurrency: int


def _rows(bundle: dict) -> Rows:
    """A Bundle's resources as a server would store them: ids given, references resolved, JSON text."""
    return [
        (rtype, rid, json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
        for rtype, rid, resource in population.resolved(bundle)
    ]


def chunks(load: Load) -> Iterator[list[Rows]]:
    """The Bundles' rows, a chunk at a time: the shared Bundle alone first (as the server got it)."""
    yield [_rows(population.shared_bundle(load.seed))]
    for start in range(0, load.patients, CHUNK):
        stop = min(load.patients, start + CHUNK)
        yield [
            _rows(population.patient_bundle(load.seed, i, load.per_patient)[0]) for i in range(start, stop)
        ]


def _conninfo(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def _insert_all(conn: psycopg.AsyncConnection, bundles: Iterator[Rows]) -> None:
    for bundle in bundles:
        async with conn.cursor() as cur:
            await cur.executemany(PG_INSERT, bundle)  # psycopg 3 pipelines an executemany
        await conn.commit()


async def run_pg(url: str, load: Load) -> tuple[int, float]:
    """Rows inserted and the seconds the inserting took."""
    async with await psycopg.AsyncConnection.connect(_conninfo(url), autocommit=True) as conn:
        await conn.execute("DROP TABLE IF EXISTS bench_raw_resource")
        await conn.execute(PG_TABLE)
    conns = [await psycopg.AsyncConnection.connect(_conninfo(url)) for _ in range(load.concurrency)]
    rows, seconds = 0, 0.0
    try:
        for chunk in chunks(load):
            following = iter(chunk)  # shared by the connections: each takes the next Bundle
            began = time.perf_counter()
            await asyncio.gather(*(_insert_all(c, following) for c in conns))
            seconds += time.perf_counter() - began
            rows += sum(len(bundle) for bundle in chunk)
    finally:
        for conn in conns:
            await conn.close()
    return rows, seconds


def run_sqlite(url: str, load: Load) -> tuple[int, float]:
    """The same on SQLite: one writer at a time, so one connection, with the server's pragmas."""
    conn = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
    rows, seconds = 0, 0.0
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("DROP TABLE IF EXISTS bench_raw_resource")
        conn.execute(SQLITE_TABLE)
        for chunk in chunks(load):
            began = time.perf_counter()
            for bundle in chunk:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(SQLITE_INSERT, bundle)
                conn.execute("COMMIT")
            seconds += time.perf_counter() - began
            rows += sum(len(bundle) for bundle in chunk)
    finally:
        conn.close()
    return rows, seconds


def stored_resources(url: str) -> int:
    """Current resources in the FHIR repository, counted through the driver."""
    query = "SELECT count(*) FROM fhir_resource WHERE NOT deleted"
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split(":///", 1)[1])
        try:
            return conn.execute(query).fetchone()[0]
        finally:
            conn.close()
    with psycopg.connect(_conninfo(url)) as conn:
        return conn.execute(query).fetchone()[0]


def analyze(url: str) -> None:
    """Fresh planner statistics after the bulk load, as autovacuum would gather within a minute or so (and
    as `zhiyi fhir import` does after a load): without them PostgreSQL plans every index lookup for one row
    and a chained search re-runs its inner query per candidate (~400 ms instead of ~8 ms at 200 patients)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split(":///", 1)[1])
        try:
            conn.execute("ANALYZE")
        finally:
            conn.close()
        return
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")  # and the visibility map, for index-only scans (as the import)
