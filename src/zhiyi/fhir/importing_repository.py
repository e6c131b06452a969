"""Every query of the imports' bookkeeping (`fhir_import`) and the repository's figures for the admins' page
and the export (importing.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from zhiyi.core.db import Base
from zhiyi.fhir.models import FhirImport, FhirResource, FhirVersion

R = FhirResource.__table__
V = FhirVersion.__table__
I = FhirImport.__table__  # noqa: E741


@dataclass(frozen=True, slots=True)
class TypeCount:
    type: str
    current: int  # resources not deleted
    versions: int  # every version kept (deletions included)


async def by_fingerprint(session: AsyncSession, fingerprint: str) -> FhirImport | None:
    return await session.scalar(select(FhirImport).where(FhirImport.fingerprint == fingerprint))


def add(session: AsyncSession, row: FhirImport) -> None:
    session.add(row)


async def record_chunk(
    session: AsyncSession, import_id: uuid.UUID, *, position: int, loaded: int, failed: int, errors: list
) -> None:
    """Where the import got to, written in the transaction of the chunk it reports (a re-run starts after)."""
    await session.execute(
        update(I)
        .where(I.c.id == import_id)
        .values(position=position, loaded=loaded, failed=failed, errors=errors)
    )


async def finish(
    session: AsyncSession,
    import_id: uuid.UUID,
    *,
    status: str,
    at: dt.datetime,
    position: int,
    loaded: int,
    failed: int,
    errors: list,
) -> None:
    await session.execute(
        update(I)
        .where(I.c.id == import_id)
        .values(status=status, finished_at=at, position=position, loaded=loaded, failed=failed, errors=errors)
    )


async def history(session: AsyncSession, *, limit: int) -> Sequence[FhirImport]:
    """The newest imports first."""
    query = select(FhirImport).order_by(FhirImport.started_at.desc(), FhirImport.id).limit(limit)
    return (await session.scalars(query)).all()


async def counts_by_type(session: AsyncSession) -> list[TypeCount]:
    alive = select(R.c.type, func.count()).where(R.c.deleted.is_(False)).group_by(R.c.type)
    current: dict[str, int] = {t: n for t, n in await session.execute(alive)}
    every = select(V.c.type, func.count()).group_by(V.c.type)
    kept: dict[str, int] = {t: n for t, n in await session.execute(every)}
    return [TypeCount(t, current.get(t, 0), kept.get(t, 0)) for t in sorted(current.keys() | kept.keys())]


async def current_page(
    session: AsyncSession, rtype: str, *, after_pk: int, limit: int
) -> list[tuple[int, dict]]:
    """(pk, content) of the current version of up to `limit` resources of a type not deleted, by pk after
    `after_pk` (a keyset page: the next one starts after the last pk)."""
    query = (
        select(R.c.pk, V.c.content)
        .join(V, and_(V.c.res_pk == R.c.pk, V.c.version == R.c.version))
        .where(R.c.type == rtype, R.c.deleted.is_(False), R.c.pk > after_pk)
        .order_by(R.c.pk)
        .limit(limit)
    )
    return [(row.pk, row.content) for row in await session.execute(query)]


async def analyze(engine: AsyncEngine) -> None:
    """Fresh planner statistics for the repository's tables after a load (PostgreSQL plans every index
    look-up for one row until autovacuum gets to them, and a chained search then re-runs its inner query
    per candidate); on PostgreSQL a VACUUM too, which marks the loaded pages all-visible so that a search
    reads its resources from the covering indexes alone."""
    if engine.dialect.name != "postgresql":
        async with engine.begin() as conn:  # SQLite's ANALYZE is written in a transaction like the rest
            await conn.execute(text("ANALYZE"))
        return
    names = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name.startswith("fhir_"))
    async with engine.connect() as conn:  # VACUUM runs outside a transaction
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"VACUUM (ANALYZE) {names}"))
