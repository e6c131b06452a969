"""`zhiyi triage ...`: build the classifier, evaluate it on a file of cases, retrain it on the
outcomes stored in the database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhiyi.core.config import get_settings, use
from zhiyi.core.db import Database
from zhiyi.domains.triage import classifier, evaluation, knowledge, service

app = typer.Typer(
    help="Smart triage: build, evaluate and retrain the department classifier", no_args_is_help=True
)
console = Console(stderr=True)


@app.command()
def build(
    force: Annotated[bool, typer.Option(help="build again even if the model is current")] = False,
) -> None:
    """Build the classifier from the data in the repository (kept until that data changes)."""
    with console.status("Building the triage model"):
        path = classifier.build(force=force)
    console.print(f"[green]Triage model:[/green] {path}")


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    red_flag: Annotated[
        bool, typer.Option("--red-flag", help='every line is an emergency unless it says "emergency": false')
    ] = False,
    misses: Annotated[int, typer.Option(help="show this many wrong first suggestions")] = 0,
) -> None:
    """Triage every line of FILE.jsonl and score it; the last line is JSON."""
    lines = file.read_text(encoding="utf-8").splitlines()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Triage", total=None)
        report = evaluation.evaluate(
            lines, red_flag=red_flag, progress=lambda k, n: progress.update(task, completed=k, total=n)
        )
    cat = knowledge.knowledge().catalogue
    out = Console()
    for line, label in report.unmapped:
        out.print(f"[yellow]line {line}: no catalogue department for {label}; left out[/yellow]")
    for line, why in report.invalid:
        out.print(f"[yellow]line {line}: not a case ({why}); left out[/yellow]")
    table = Table(title="Per department group (first suggestion)")
    for col in ("group", "name", "cases", "predicted", "precision", "recall"):
        table.add_column(col, justify="right" if col not in ("group", "name") else "left")
    for g, gold, pred, p, r in report.per_group():
        table.add_row(
            g,
            cat.name(g, "en") if g in cat.names else g,
            str(gold),
            str(pred),
            "-" if p is None else f"{p:.2f}",
            "-" if r is None else f"{r:.2f}",
        )
    out.print(table)
    groups = sorted({g for g, _ in report.groups} | {p for _, p in report.groups})
    confusion = Table(title="Confusion (rows: right group, columns: first suggestion's group)")
    confusion.add_column("")
    for g in groups:
        confusion.add_column(g, justify="right")
    for g in groups:
        confusion.add_row(g, *[str(report.groups.get((g, p), "")) for p in groups])
    out.print(confusion)
    for case in report.missed_emergencies:
        out.print(f"[red]missed emergency, line {case.line}:[/red] {case.text}")
    for case, flags in report.false_alarms:
        out.print(
            f"[magenta]emergency instruction for a clinic case, line {case.line} ({', '.join(flags)}):"
            f"[/magenta] {case.text}"
        )
    for case, predicted in report.misses[:misses]:
        out.print(f"line {case.line}: {case.text!r} wanted {case.labels} got {predicted}")
    print(json.dumps(report.summary(), ensure_ascii=False))


@app.command()
def retrain(
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: the configured one)")] = None,
) -> None:
    """Retrain on the shipped data plus stored outcomes (suggestions that helped, departments doctors
    reassigned)."""
    settings = get_settings()
    if db:
        settings = use(settings.model_copy(update={"database_url": db}))

    async def outcomes() -> list[classifier.Example]:
        database = Database(settings)
        try:
            async with database.sessionmaker() as session:
                return await service.training_outcomes(session)
        finally:
            await database.dispose()

    found = asyncio.run(outcomes())
    with console.status(f"Retraining with {len(found)} outcomes"):
        path = classifier.retrain(found)
    console.print(f"[green]Retrained[/green] with {len(found)} stored outcomes: {path}")
    print(json.dumps({"outcomes": len(found), "model": str(path)}))
