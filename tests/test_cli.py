"""The zhiyi command on a real, empty database of each backend."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from zhiyi.cli import app
from zhiyi.core.config import Settings
from zhiyi.core.db import Database
from zhiyi.domains.identity.models import Account

runner = CliRunner()


def accounts_in(url: str) -> list[tuple[str, str, bool]]:
    async def read():
        db = Database(Settings(database_url=url))
        try:
            async with db.sessionmaker() as s:
                return [(a.username, a.roles, a.group_wide) for a in (await s.scalars(select(Account))).all()]
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_migrate_then_create_a_user(fresh_db_url):
    assert runner.invoke(app, ["migrate", "--db", fresh_db_url]).exit_code == 0
    r = runner.invoke(
        app,
        [
            "users",
            "create",
            "ops-admin",
            "--role",
            "admin",
            "--name",
            "Ops Admin",
            "--group-wide",
            "--db",
            fresh_db_url,
        ],
        input="Str0ng-pass\nStr0ng-pass\n",
    )
    assert r.exit_code == 0, r.output
    assert accounts_in(fresh_db_url) == [("ops-admin", "admin", True)]
    bad = runner.invoke(
        app,
        ["users", "create", "x", "--role", "wizard", "--name", "X", "--db", fresh_db_url],
        input="Str0ng-pass\nStr0ng-pass\n",
    )
    assert bad.exit_code != 0 and "unknown roles" in bad.output


def test_the_server_imports_nothing_of_the_bench_and_needs_no_aiohttp():
    """Issue 17: `zhiyi serve` imported aiohttp and the load generator. The bench is an extra, loaded by
    `zhiyi bench` only."""
    code = (
        "import sys, zhiyi.app, zhiyi.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('zhiyi.bench', 'aiohttp'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("aiohttp")]
    assert any(d.startswith("aiohttp") for d in project["optional-dependencies"]["bench"])


def test_zhiyi_bench_still_answers_as_before():
    result = runner.invoke(app, ["bench", "rush", "--help"])
    assert result.exit_code == 0 and "--kill-at" in result.output
