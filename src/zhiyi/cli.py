"""The `zhiyi` command: serve, migrate, seed, demo, worker, users."""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhiyi.core import logs, outbox
from zhiyi.core import migrate as migrations
from zhiyi.core.config import DEV_SECRET, Settings, get_settings, secret_problem, use
from zhiyi.core.db import Database
from zhiyi.core.policy import Role
from zhiyi.demo import seed as demo_seed
from zhiyi.domains import registry
from zhiyi.domains.identity import service as identity
from zhiyi.domains.scheduling import rush
from zhiyi.domains.scheduling.rush import protocol
from zhiyi.domains.triage import cli as triage_cli

app = typer.Typer(help="Zhiyi (智医) smart-hospital platform", no_args_is_help=True)
users = typer.Typer(help="Manage accounts", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(triage_cli.app, name="triage")
console = Console()

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: ZHIYI_DATABASE_URL or ./var/zhiyi.db)")
]


def _settings(db: str | None) -> Settings:
    settings = get_settings()
    if db:
        settings = use(settings.model_copy(update={"database_url": db}))
    return settings


@app.command()
def migrate(db: DbOpt = None) -> None:
    """Bring the database schema to the newest migration."""
    settings = _settings(db)
    migrations.upgrade(settings.database_url)
    console.print("[green]Database is at the newest migration.[/green]")


async def _seed(settings: Settings, patients: int, seed: int) -> demo_seed.SeedResult:
    registry.install_policies()
    db = Database(settings)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, int] = {}

            def advance(step: str, n: int, total: int | None) -> None:
                if step not in tasks:
                    tasks[step] = progress.add_task(step, total=total)
                progress.update(tasks[step], advance=n)

            async with db.sessionmaker() as session:
                result = await demo_seed.seed(session, patients=patients, seed=seed, progress=advance)
                await session.commit()
        return result
    finally:
        await db.dispose()


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo logins / 演示账号")
    for col in ("role", "username", "password"):
        table.add_column(col)
    for role, username, password in logins:
        table.add_row(role, username, password)
    console.print(table)


@app.command()
def seed(
    db: DbOpt = None,
    patients: int = typer.Option(2000, min=1, max=200_000),
    seed: int = typer.Option(42, help="Same seed, same data"),
) -> None:
    """Fill an empty database with a deterministic demo hospital group."""
    settings = _settings(db)
    migrations.upgrade(settings.database_url)
    result = asyncio.run(_seed(settings, patients, seed))
    console.print(
        f"[green]Seeded[/green] {result.campuses} campuses, {result.departments} departments, "
        f"{result.practitioners} practitioners, {result.patients} patients, {result.accounts} accounts, "
        f"{result.clinic_sessions} clinic sessions over {result.days} days"
    )
    _print_logins(result.logins)


@app.command()
def serve(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 1, db: DbOpt = None, reload: bool = False
) -> None:
    """Serve the web app and API."""
    settings = _settings(db)
    problem = secret_problem(settings)
    if problem:
        console.print(f"[red]Refusing to serve:[/red] {problem}")
        raise typer.Exit(2)
    if db:
        os.environ["ZHIYI_DATABASE_URL"] = db
    if workers > 1 and settings.in_process_worker:
        console.print(
            "[yellow]Several workers: run `zhiyi worker` too, or each worker drains the outbox.[/yellow]"
        )
    uvicorn.run(
        "zhiyi.app:production_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        access_log=False,
        proxy_headers=True,
        http=protocol.NAME if rush.enabled(settings) else "httptools",  # the rush's: coalesced writes
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def demo(
    host: str = "127.0.0.1", port: int = 8000, patients: int = 2000, seed: int = 42, db: DbOpt = None
) -> None:
    """Create (once) and serve the demo hospital group on SQLite."""
    settings = _settings(db)
    if settings.secret_key == DEV_SECRET:
        os.environ["ZHIYI_DEV_SECRET_ALLOWED"] = "1"  # the demo only; `zhiyi serve` refuses this secret
        settings = use(settings.model_copy(update={"dev_secret_allowed": True}))
        console.print(
            "[bold yellow]Running on the built-in development secret: anyone can sign tokens for this "
            "server. For a demo on this machine only; never serve real patients with it (set "
            "ZHIYI_SECRET_KEY).[/bold yellow]"
        )
    migrations.upgrade(settings.database_url)
    asyncio.run(_seed_if_empty(settings, patients, seed))
    _print_logins(demo_seed.DEMO_LOGINS)
    console.print(f"[bold green]Zhiyi demo: http://{host}:{port}/[/bold green]  (API docs: /docs)")
    serve(host=host, port=port, workers=1, db=db, reload=False)


async def _seed_if_empty(settings: Settings, patients: int, seed: int) -> None:
    db = Database(settings)
    try:
        async with db.sessionmaker() as session:
            seeded = await demo_seed.is_seeded(session)
    finally:
        await db.dispose()
    if seeded:
        console.print("Demo data already present; serving it.")
    else:
        await _seed(settings, patients, seed)


@app.command()
def worker(db: DbOpt = None, interval: float = 1.0) -> None:
    """Drain the outbox (production: run one or more next to the web workers)."""
    settings = _settings(db)
    logs.setup(json_logs=settings.log_json)
    registry.install_policies()

    async def run() -> None:
        database = Database(settings)
        w = outbox.Worker(database.sessionmaker, interval=interval)
        try:
            await w.run()
        finally:
            await database.dispose()

    asyncio.run(run())


@users.command("create")
def users_create(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Repeatable")],
    display_name: str = typer.Option(..., "--name"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    group_wide: bool = False,
    db: DbOpt = None,
) -> None:
    """Create a staff or admin account."""
    settings = _settings(db)
    bad = set(role) - {r.value for r in Role}
    if bad:
        raise typer.BadParameter(f"unknown roles {sorted(bad)}; choose from {[r.value for r in Role]}")

    async def run() -> None:
        database = Database(settings)
        try:
            async with database.sessionmaker() as session:
                account = await identity.create_account(
                    session,
                    username=username,
                    password=password,
                    display_name=display_name,
                    roles=set(role),
                    group_wide=group_wide,
                )
                await session.commit()
                console.print(f"[green]Created[/green] {account.username} ({account.roles})")
        finally:
            await database.dispose()

    asyncio.run(run())


@app.command(
    "bench",
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def bench(ctx: typer.Context) -> None:
    """Benchmarks (`zhiyi bench --help`); each prints one JSON object on its last line. They need the
    bench extra (pip install 'zhiyi[bench]': the load generator's aiohttp), which the server never loads."""
    try:  # loaded here, by name, only when asked: `zhiyi serve` and the app import nothing of the bench
        bench_cli = importlib.import_module("zhiyi.bench.cli")
    except ModuleNotFoundError as exc:
        console.print(
            "[red]The benchmarks need the bench extra[/red]: "
            f"pip install 'zhiyi[bench]' ({exc.name} is missing)"
        )
        raise typer.Exit(2) from None
    bench_cli.app(args=ctx.args, prog_name="zhiyi bench")


if __name__ == "__main__":
    app()
