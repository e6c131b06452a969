"""A scratch database for a benchmark run: a new database on the PostgreSQL server named by
--db (dropped afterwards), or a new SQLite file; migrated by the real migrations."""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg

from zhiyi.core import migrate


def _admin_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


@contextmanager
def scratch_database(url: str, keep: bool = False):
    """Yields the URL of a fresh, migrated database next to the one given."""
    if url.startswith("sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="zhiyi-bench-"))
        fresh = f"sqlite:///{folder / 'bench.db'}"
        migrate.upgrade(fresh)
        try:
            yield fresh
        finally:
            if not keep:
                for f in folder.glob("*"):
                    f.unlink()
                folder.rmdir()
        return
    name = f"zhiyi_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    fresh = url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(fresh)
        yield fresh
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
