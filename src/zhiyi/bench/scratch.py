"""A scratch database for a benchmark run: a new database on the PostgreSQL server named by
--db (dropped afterwards), or a new SQLite file; migrated by the real migrations.

On PostgreSQL it also holds the anchors' own statement (bench/raw.py, bench/bare.py): the short
question for a session seen sold out, as migration 0013 made it. The server asked it until migration
0020; the anchors keep it, so that their figures stay comparable from run to run."""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import psycopg

from zhiyi.core import migrate

ANCHOR_QUESTION = import_module("zhiyi.migrations.versions.0013_sold_out_question_knows_the_patient").ASK


def install_anchor_statements(url: str) -> None:
    """The anchors' own statement in a migrated PostgreSQL database (see the module's text)."""
    if not url.startswith("sqlite"):
        with psycopg.connect(_admin_url(url), autocommit=True) as conn:
            conn.execute(ANCHOR_QUESTION)


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
        install_anchor_statements(fresh)
        yield fresh
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
