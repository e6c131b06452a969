"""Every query of the store's tables but the searches (search_repository.py builds those)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, event, exists, insert, not_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from zhiyi.fhir.compartment import COMPARTMENT_PARAM
from zhiyi.fhir.models import (
    FhirResource,
    FhirVersion,
    IxComposite,
    IxDate,
    IxNumber,
    IxQuantity,
    IxReference,
    IxString,
    IxToken,
    IxUri,
)

R = FhirResource.__table__
V = FhirVersion.__table__
INDEX_TABLES = {
    "strings": (IxString.__table__, ("param", "folded", "exact")),
    "tokens": (IxToken.__table__, ("param", "system", "code", "text")),
    "dates": (IxDate.__table__, ("param", "low", "high")),
    "references": (IxReference.__table__, ("param", "target_type", "target_id", "url")),
    "quantities": (IxQuantity.__table__, ("param", "value", "system", "code", "unit")),
    "uris": (IxUri.__table__, ("param", "uri")),
    "numbers": (IxNumber.__table__, ("param", "value")),
    "composites": (
        IxComposite.__table__,
        ("param", "system", "code", "v_system", "v_code", "v_number", "v_unit", "v_low", "v_high", "v_text"),
    ),
}
CUT = 512  # the index columns' length (models.TEXT)


@dataclass(frozen=True, slots=True)
class Stored:
    """One version of one resource, as kept (`content` has `id` and `meta.versionId`/`lastUpdated` set;
    None for a deletion)."""

    type: str
    id: str
    version: int
    updated_at: dt.datetime
    deleted: bool
    content: dict | None
    method: str = "PUT"  # POST, PUT or DELETE: how this version was made (history's request.method)


@dataclass(frozen=True, slots=True)
class Current:
    pk: int
    version: int
    deleted: bool
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRow:
    pk: int
    stored: Stored


async def current(session: AsyncSession, rtype: str, rid: str, *, for_update: bool = False) -> Current | None:
    query = select(R.c.pk, R.c.version, R.c.deleted, R.c.owner).where(R.c.type == rtype, R.c.id == rid)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return Current(row.pk, row.version, row.deleted, row.owner) if row else None


# --- new resources, written together ------------------------------------------------------------------
# A transaction Bundle creates ~100 resources; written one by one they cost ~10 statements each (the row,
# its version, each index table). Created resources wait in the session and are written by table, a few
# statements in all, before anything reads the store (flush) and, whatever else happens, before the
# session commits (the before_commit hook below): nothing created is ever left unwritten.

PENDING = "zhiyi.fhir.pending"


@dataclass(frozen=True, slots=True)
class Pending:
    type: str
    id: str
    at: dt.datetime
    owner: str | None
    content: dict
    index: object  # extract.ResourceIndex


def defer(session: AsyncSession, item: Pending) -> bool:
    """Queue a new resource; False if this session already queued that type and id."""
    queue = session.info.setdefault(PENDING, {})
    key = (item.type, item.id)
    if key in queue:
        return False
    queue[key] = item
    return True


async def flush(session: AsyncSession) -> None:
    if session.info.get(PENDING):
        await session.run_sync(write_pending)


def write_pending(sync_session: Session) -> None:
    """Write the queued resources: their rows (RETURNING their keys), versions and index rows."""
    queue = sync_session.info.pop(PENDING, None)
    if not queue:
        return
    items = list(queue.values())
    rows = [
        {"type": i.type, "id": i.id, "version": 1, "updated_at": i.at, "deleted": False, "owner": i.owner}
        for i in items
    ]
    pks = (
        sync_session.execute(insert(R).returning(R.c.pk, sort_by_parameter_order=True), rows).scalars().all()
    )
    sync_session.execute(
        insert(V),
        [
            {
                "res_pk": pk,
                "version": 1,
                "type": i.type,
                "updated_at": i.at,
                "method": "POST",
                "content": i.content,
            }
            for pk, i in zip(pks, items, strict=True)
        ],
    )
    by_table: dict[str, list[dict]] = {}
    for pk, i in zip(pks, items, strict=True):
        for name, table_rows in index_values(pk, i.type, i.index).items():
            by_table.setdefault(name, []).extend(table_rows)
    for name, table_rows in by_table.items():
        sync_session.execute(insert(INDEX_TABLES_BY_NAME[name]), table_rows)


@event.listens_for(Session, "before_commit")
def _write_before_commit(sync_session: Session) -> None:
    if sync_session.info.get(PENDING):
        write_pending(sync_session)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(sync_session: Session) -> None:
    sync_session.info.pop(PENDING, None)


async def insert_version(
    session: AsyncSession,
    pk: int,
    rtype: str,
    version: int,
    at: dt.datetime,
    method: str,
    content: dict | None,
) -> None:
    await session.execute(
        insert(V).values(
            res_pk=pk, version=version, type=rtype, updated_at=at, method=method, content=content
        )
    )


async def set_current(
    session: AsyncSession, pk: int, version: int, at: dt.datetime, *, deleted: bool, owner: str | None = None
) -> None:
    values = dict(version=version, updated_at=at, deleted=deleted, owner=owner)
    await session.execute(update(R).where(R.c.pk == pk).values(**values))


def _cut(value):
    return value[:CUT] if isinstance(value, str) and len(value) > CUT else value


def index_values(pk: int, rtype: str, index) -> dict[str, list[dict]]:
    """The rows of each index table for one resource (numbered per table: the key is (res_pk, n))."""
    out = {}
    for field, (table, columns) in INDEX_TABLES.items():
        rows = getattr(index, field)
        if rows:
            out[table.name] = [
                {
                    "res_pk": pk,
                    "n": n,
                    "type": rtype,
                    **{c: _cut(v) for c, v in zip(columns, row, strict=True)},
                }
                for n, row in enumerate(rows)
            ]
    return out


async def insert_index(session: AsyncSession, pk: int, rtype: str, index) -> None:
    for name, rows in index_values(pk, rtype, index).items():
        await session.execute(insert(INDEX_TABLES_BY_NAME[name]), rows)


INDEX_TABLES_BY_NAME = {table.name: table for table, _ in INDEX_TABLES.values()}


async def delete_index(session: AsyncSession, pk: int) -> None:
    for table, _ in INDEX_TABLES.values():
        await session.execute(delete(table).where(table.c.res_pk == pk))


async def patients_of(session: AsyncSession, pk: int) -> set[str]:
    ref = IxReference.__table__
    query = select(ref.c.target_id).where(ref.c.res_pk == pk, ref.c.param == COMPARTMENT_PARAM)
    return set((await session.execute(query)).scalars())


def _stored(row) -> Stored:
    return Stored(row.type, row.id, row.version, row.updated_at, row.content is None, row.content, row.method)


_VERSION_COLUMNS = (R.c.type, R.c.id, V.c.version, V.c.updated_at, V.c.content, V.c.method)


async def version(session: AsyncSession, pk: int, rtype: str, rid: str, number: int) -> Stored | None:
    query = select(V.c.version, V.c.updated_at, V.c.content, V.c.method).where(
        V.c.res_pk == pk, V.c.version == number
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return Stored(rtype, rid, row.version, row.updated_at, row.content is None, row.content, row.method)


@dataclass(frozen=True, slots=True)
class Reach:
    """What a caller's searches and histories may return: the resources in the compartments of these
    patients, and (`directory`) those of DIRECTORY_TYPES in no patient's compartment."""

    patients: frozenset[str]
    directory: bool = False


# what anyone signed in may read: the hospitals' directory (never a resource about a patient: a type
# outside this list that is in no compartment, a Device or a Group, say, is a group-wide admin's only)
DIRECTORY_TYPES = frozenset(
    {"Organization", "Location", "Practitioner", "PractitionerRole", "HealthcareService", "Schedule", "Slot",
     "Questionnaire", "Endpoint"}
)  # fmt: skip


def in_compartments(pk_column, reach: Reach, type_column):
    ref = IxReference.__table__
    mine = exists().where(
        ref.c.res_pk == pk_column,
        ref.c.param == COMPARTMENT_PARAM,
        ref.c.target_type == "Patient",
        ref.c.target_id.in_(sorted(reach.patients)),
    )
    if not reach.directory:
        return mine
    anyones = exists().where(ref.c.res_pk == pk_column, ref.c.param == COMPARTMENT_PARAM)
    return or_(mine, and_(type_column.in_(sorted(DIRECTORY_TYPES)), not_(anyones)))


async def versions(
    session: AsyncSession,
    *,
    rtype: str | None,
    res_pk: int | None,
    since: dt.datetime | None,
    after: tuple[dt.datetime, int, int] | None,
    limit: int,
    reach: Reach | None,
) -> list[VersionRow]:
    """Versions newest first, by (updated_at, res_pk, version) descending, after the cursor's key."""
    query = select(V.c.res_pk, *_VERSION_COLUMNS).join(R, R.c.pk == V.c.res_pk)
    if res_pk is not None:
        query = query.where(V.c.res_pk == res_pk)
    elif rtype is not None:
        query = query.where(V.c.type == rtype)
    if since is not None:
        query = query.where(V.c.updated_at >= since)
    if reach is not None:
        query = query.where(in_compartments(V.c.res_pk, reach, R.c.type))
    if after is not None:
        at, pk, number = after
        query = query.where(
            or_(
                V.c.updated_at < at,
                and_(V.c.updated_at == at, V.c.res_pk < pk),
                and_(V.c.updated_at == at, V.c.res_pk == pk, V.c.version < number),
            )
        )
    query = query.order_by(V.c.updated_at.desc(), V.c.res_pk.desc(), V.c.version.desc()).limit(limit)
    return [VersionRow(row.res_pk, _stored(row)) for row in await session.execute(query)]


def current_versions(pks_query):
    """The current version of each resource whose pk `pks_query` selects."""
    return (
        select(V.c.res_pk, *_VERSION_COLUMNS)
        .join(R, and_(R.c.pk == V.c.res_pk, R.c.version == V.c.version))
        .where(V.c.res_pk.in_(pks_query), R.c.deleted.is_(False))
    )


async def load_current(session: AsyncSession, pks: list[int]) -> dict[int, Stored]:
    if not pks:
        return {}
    query = (
        select(V.c.res_pk, *_VERSION_COLUMNS)
        .join(R, and_(R.c.pk == V.c.res_pk, R.c.version == V.c.version))
        .where(V.c.res_pk.in_(pks))
    )
    return {row.res_pk: _stored(row) for row in await session.execute(query)}


async def compartment(session: AsyncSession, patient_id: str) -> list[Stored]:
    ref = IxReference.__table__
    pks = select(ref.c.res_pk).where(
        ref.c.param == COMPARTMENT_PARAM, ref.c.target_type == "Patient", ref.c.target_id == patient_id
    )
    rows = await session.execute(current_versions(pks).order_by(R.c.type, R.c.pk))
    return [_stored(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Kept:
    """A resource's row and its current content (owned.put_many compares a projection with it)."""

    current: Current
    content: dict | None


async def kept_many(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Kept]:
    """The rows and current contents of the resources named by (type, id), in one query a chunk."""
    found: dict[tuple[str, str], Kept] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        query = (
            select(R.c.type, R.c.id, R.c.pk, R.c.version, R.c.deleted, R.c.owner, V.c.content)
            .join(V, and_(V.c.res_pk == R.c.pk, V.c.version == R.c.version))
            .where(tuple_(R.c.type, R.c.id).in_(chunk))
        )
        for row in await session.execute(query):
            current = Current(row.pk, row.version, row.deleted, row.owner)
            found[(row.type, row.id)] = Kept(current, row.content)
    return found
