"""`zhiyi bench ...`: the benchmarks (the bench extra: pip install 'zhiyi[bench]'), loaded by
`zhiyi.cli` only when asked, so that the server never imports the load generator."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from zhiyi.bench import fhir, rush

app = typer.Typer(
    help="Benchmarks; each prints one JSON object on its last line",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@app.command("rush")
def bench_rush(
    db: str = typer.Option(
        ..., "--db", help="postgresql://... or sqlite:///...; a scratch database is made beside it"
    ),
    clients: int = typer.Option(500, min=1),
    doctors: int = typer.Option(20, min=1),
    slots: int = typer.Option(50, min=1),
    patients: int = typer.Option(5000, min=1),
    workers: int = typer.Option(2, min=1),
    procs: int = typer.Option(2, min=1, help="load-generator processes"),
    seed: int = 1,
    retry_rate: float = typer.Option(0.10, min=0, max=1),
    cancel_rate: float = typer.Option(0.05, min=0, max=1),
    waitlist_rate: float = typer.Option(0.05, min=0, max=1, help="share of patients told 'full' who wait"),
    keep: bool = False,
    kill_at: float | None = typer.Option(
        None,
        "--kill-at",
        min=0,
        metavar="SECONDS",
        help=(
            "SIGKILL every server process this long after the release, restart the server "
            "and let the rush finish"
        ),
    ),
    draw_seconds: float = typer.Option(
        0.0,
        "--draw-seconds",
        min=0,
        help="run the release draw with this window (default off: first come, first served, like the anchor)",
    ),
    bare: bool = typer.Option(
        False,
        "--bare",
        help=(
            "rush a bare FastAPI + asyncpg endpoint running the anchor's statements instead of Zhiyi "
            "(a calibration; bookings only)"
        ),
    ),
) -> None:
    """A registration rush at the release instant, checked for anomalies, with its anchor."""
    opts = rush.Options(
        db=db,
        clients=clients,
        doctors=doctors,
        slots=slots,
        patients=patients,
        workers=workers,
        procs=procs,
        seed=seed,
        retry_rate=retry_rate,
        cancel_rate=cancel_rate,
        waitlist_rate=waitlist_rate,
        keep=keep,
        kill_at=kill_at,
        draw_seconds=draw_seconds,
        bare=bare,
    )
    result = rush.run(opts, log=lambda m: console.print(f"[dim]{m}[/dim]"))
    print(json.dumps(result))


@app.command("fhir")
def bench_fhir(
    db: str = typer.Option(
        ..., "--db", help="postgresql://... or sqlite:///...; a scratch database is made beside it"
    ),
    patients: int = typer.Option(1000, min=1),
    per_patient: int = typer.Option(100, "--per-patient", min=5, help="resources in each patient's Bundle"),
    workers: int = typer.Option(2, min=1),
    concurrency: int = typer.Option(8, min=1, help="transaction Bundles in flight (and anchor connections)"),
    searches: int = typer.Option(200, min=1, help="searches of each kind"),
    search_concurrency: int = typer.Option(4, "--search-concurrency", min=1),
    seed: int = 1,
    keep: bool = False,
) -> None:
    """A synthetic population loaded through transaction Bundles and searched, with its anchor."""
    opts = fhir.Options(
        db=db,
        patients=patients,
        per_patient=per_patient,
        workers=workers,
        concurrency=concurrency,
        searches=searches,
        search_concurrency=search_concurrency,
        seed=seed,
        keep=keep,
    )
    result = fhir.run(opts, log=lambda m: console.print(f"[dim]{m}[/dim]"))
    print(json.dumps(result, ensure_ascii=False))


@app.callback()
def main() -> None:
    """Benchmarks; each prints one JSON object on its last line."""
