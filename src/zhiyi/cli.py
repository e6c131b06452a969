"""The `zhiyi` command: serve, migrate, seed, demo, worker, users, fhir."""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
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
from zhiyi.fhir import importing

app = typer.Typer(help="Zhiyi (智医) smart-hospital platform", no_args_is_help=True)
users = typer.Typer(help="Manage accounts", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(triage_cli.app, name="triage")
fhir = typer.Typer(
    help="The FHIR repository: load files into it, write it out as NDJSON, write Zhiyi's own rows into it",
    no_args_is_help=True,
)
app.add_typer(fhir, name="fhir")
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


async def _seed(settings: Settings, patients: int, seed: int, fhir: bool = True) -> demo_seed.SeedResult:
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
                result = await demo_seed.seed(
                    session, patients=patients, seed=seed, progress=advance, fhir=fhir
                )
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
    fhir: bool = typer.Option(
        True,
        "--fhir/--no-fhir",
        help="Also write the group's rows into the FHIR repository (`zhiyi fhir sync`)",
    ),
) -> None:
    """Fill an empty database with a deterministic demo hospital group."""
    settings = _settings(db)
    migrations.upgrade(settings.database_url)
    result = asyncio.run(_seed(settings, patients, seed, fhir))
    console.print(
        f"[green]Seeded[/green] {result.campuses} campuses, {result.departments} departments, "
        f"{result.practitioners} practitioners, {result.patients} patients, {result.accounts} accounts, "
        f"{result.clinic_sessions} clinic sessions over {result.days} days"
    )
    _print_logins(result.logins)


SHUTDOWN_GRACE_SECONDS = 10


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
        # a live page's open stream must not hold a restart: after this, uvicorn cancels what still runs
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
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


# Synthea writes the organizations and practitioners its patients' Bundles refer to in files of their own:
# loaded first, a patient's conditional references to them resolve
_LOADED_FIRST = ("hospitalInformation", "practitionerInformation")


def _import_files(paths: list[Path]) -> list[Path]:
    """The files named, and every *.json and *.ndjson inside the folders named (sorted, Synthea's shared
    organizations and practitioners first)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".json", ".ndjson")]
            found += sorted(inside, key=lambda p: (not p.name.startswith(_LOADED_FIRST), str(p)))
        else:
            found.append(path)
    return found


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def _import(settings: Settings, files: list[Path], chunk: int) -> list[importing.ImportReport]:
    db = Database(settings)
    reports = []
    try:
        with _bar() as progress:
            tasks: dict[str, TaskID] = {}

            def advance(source: str, done: int, total: int | None) -> None:
                if source not in tasks:
                    tasks[source] = progress.add_task(Path(source).name, total=total)
                progress.update(tasks[source], completed=done, total=total)

            for path in files:
                try:
                    reports.append(await importing.import_file(db, path, progress=advance, chunk=chunk))
                except OSError as exc:  # unreadable: reported with the others, the next file loaded
                    said = [{"at": None, "diagnostics": str(exc)}]
                    reports.append(
                        importing.ImportReport(str(path), "failed", "unreadable", 0, 1, errors=said)
                    )
        await importing.refresh_statistics(db)
        return reports
    finally:
        await db.dispose()


@fhir.command("import")
def fhir_import(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders (*.json, *.ndjson)")],
    db: DbOpt = None,
    chunk: Annotated[int, typer.Option(min=1, help="NDJSON lines a transaction")] = importing.CHUNK,
) -> None:
    """Load Bundles (transaction, batch, collection), resources and NDJSON files into the FHIR repository.
    A file loaded before is skipped; one stopped half-way resumes where it stopped."""
    settings = _settings(db)
    migrations.upgrade(settings.database_url)
    reports = asyncio.run(_import(settings, _import_files(paths), chunk))
    table = Table(title="FHIR import")
    for col in ("file", "status", "loaded", "failed", "skipped", "seconds"):
        table.add_column(col, justify="left" if col in ("file", "status") else "right", overflow="fold")
    for r in reports:
        colour = "red" if r.failed or r.status == "failed" else "dim" if r.status == "skipped" else "green"
        table.add_row(
            escape(r.source),
            f"[{colour}]{r.status}[/{colour}]",
            *(str(n) for n in (r.loaded, r.failed, r.skipped)),
            f"{r.seconds:.1f}",
        )
    console.print(table)
    for r in reports:
        for error in r.errors[:5]:
            where = f" #{error['at']}" if error.get("at") is not None else ""
            console.print(f"[red]{escape(r.source)}{where}:[/red] {escape(str(error['diagnostics']))}")
    if any(r.failed or r.status == "failed" for r in reports):
        raise typer.Exit(1)


async def _export(settings: Settings, out_dir: Path, types: list[str] | None) -> dict[str, int]:
    db = Database(settings)
    try:
        with _bar() as progress:
            tasks: dict[str, TaskID] = {}

            def advance(rtype: str, done: int, total: int | None) -> None:
                if rtype not in tasks:
                    tasks[rtype] = progress.add_task(rtype, total=total)
                progress.update(tasks[rtype], completed=done, total=total)

            return await importing.export_ndjson(db, out_dir, types=types, progress=advance)
    finally:
        await db.dispose()


@fhir.command("export")
def fhir_export(
    out_dir: Annotated[Path, typer.Argument(file_okay=False, help="Folder for the <Type>.ndjson files")],
    rtype: Annotated[list[str] | None, typer.Option("--type", help="Only this type (repeatable)")] = None,
    db: DbOpt = None,
) -> None:
    """Write the current resources of the FHIR repository as one <Type>.ndjson a type."""
    settings = _settings(db)
    try:
        counts = asyncio.run(_export(settings, out_dir, rtype or None))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    table = Table(title=f"FHIR export to {out_dir}")
    table.add_column("type")
    table.add_column("resources", justify="right")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)


async def _sync(settings: Settings) -> dict[str, int]:
    db = Database(settings)
    written: dict[str, int] = {}
    try:
        async with db.sessionmaker() as session:
            await registry.project_fhir(session, lambda domain, changed: written.__setitem__(domain, changed))
            await session.commit()
        return written
    finally:
        await db.dispose()


@fhir.command("sync")
def fhir_sync(db: DbOpt = None) -> None:
    """Write Zhiyi's own rows (organisation, patients, clinics and bookings, ...) into the FHIR repository
    as resources. Unchanged ones make no new version; the outbox keeps them current after that."""
    settings = _settings(db)
    migrations.upgrade(settings.database_url)
    written = asyncio.run(_sync(settings))
    table = Table(title="Zhiyi's own data in FHIR")
    table.add_column("domain")
    table.add_column("resources written", justify="right")
    for domain, changed in written.items():
        table.add_row(domain, str(changed))
    console.print(table)


# the names ../shared/ARCHITECTURE.md gives them
app.command("import-fhir", hidden=True)(fhir_import)
app.command("export-fhir", hidden=True)(fhir_export)


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
