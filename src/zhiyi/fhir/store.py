"""The resource store: every version of every resource kept, the current one indexed for search.

Transport-free: it takes a session and plain values, and raises `FhirError`s. It never commits (the
edge does), so a transaction Bundle's entries are all kept or none. Its queries are store_repository's
and search's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock
from zhiyi.fhir import (
    compartment,
    composites,
    cursors,
    extract,
    search_query,
    search_repository,
    shaping,
    store_repository,
)
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError, Issue, conflict, gone, invalid, not_found
from zhiyi.fhir.store_repository import Stored

__all__ = ["SearchResult", "Stored", "Written", "create", "delete", "read", "search", "update", "vread"]


@dataclass(frozen=True, slots=True)
class Written:
    stored: Stored
    created: bool  # a new resource (201) rather than a new version of one (200)
    changed: bool = True  # False when a conditional create found its match


@dataclass(slots=True)
class SearchResult:
    matches: list[Stored]
    included: list[Stored]
    total: int | None  # counted only when asked (_summary=count, _total=accurate) or when all fit one page
    next_cursor: str | None  # an opaque token for the next page, or None on the last page
    warnings: list[str]  # the unknown parameters ignored (lenient handling), for an OperationOutcome
    self_params: list[tuple[str, str]]  # the parameters as understood (for the Bundle's self link)


def instant(at: dt.datetime) -> str:
    """FHIR's instant, as meta.lastUpdated carries it."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


OWNED_SOURCE = "urn:zhiyi:"  # meta.source of the resources Zhiyi's domains write (owned.py)


def _stamped(resource: dict, rid: str, version: int, at: dt.datetime, owner: str | None) -> dict:
    content = dict(resource)
    content["id"] = rid
    meta = dict(content.get("meta") or {})
    source = meta.get("source")
    if owner is not None:
        meta["source"] = OWNED_SOURCE + owner
    elif isinstance(source, str) and source.startswith(OWNED_SOURCE):
        raise FhirError(
            422,
            [
                Issue(
                    "business-rule",
                    f"meta.source {source} is Zhiyi's own domains' mark; another system cannot claim it.",
                    expression=(f"{content.get('resourceType')}.meta.source",),
                )
            ],
        )
    meta["versionId"] = str(version)
    meta["lastUpdated"] = instant(at)
    content["meta"] = meta
    return content


def _refuse_owned(rtype: str, rid: str, owner: str) -> FhirError:
    return FhirError(
        422,
        [
            Issue(
                "business-rule",
                f"{rtype}/{rid} shows Zhiyi's own {owner} records; change it through Zhiyi's {owner} "
                "service (its rules apply), not through FHIR.",
            )
        ],
    )


def _index_rows(rtype: str, rid: str, content: dict):
    index = extract.index_resource(content)
    # a reference to another server (an absolute URL) is found by its URL, never as one of ours
    index.references[:] = [
        (p, None, None, url) if url else (p, t, i, url) for p, t, i, url in index.references
    ]
    index.composites = composites.composite_rows(content)
    patients = compartment.patients_of(rtype, rid, index.references)
    index.references.extend((compartment.COMPARTMENT_PARAM, "Patient", p, None) for p in sorted(patients))
    return index, patients


async def create(
    session: AsyncSession, access: Access, resource: dict, *, rid: str | None = None, owner: str | None = None
) -> Written:
    """A new resource with a server-assigned id (or `rid`, for a transaction's resolved entries). `owner`:
    the Zhiyi domain writing its own rows' resource (owned.py); None for everyone else."""
    rtype = resource["resourceType"]
    rid = rid or str(uuid.uuid4())
    at = clock.now()
    content = _stamped(resource, rid, 1, at, owner)
    index, patients = _index_rows(rtype, rid, content)
    if not access.reaches(rtype, patients):
        raise invalid("The resource would not be in your compartment.", status=403, code="forbidden")
    # written with the transaction's other new resources in a few statements (store_repository.defer);
    # an id taken meanwhile fails the commit on the unique key (a 409), as two concurrent creates would
    if not store_repository.defer(session, store_repository.Pending(rtype, rid, at, owner, content, index)):
        raise conflict(f"{rtype}/{rid} is already being created in this request")
    return Written(Stored(rtype, rid, 1, at, False, content, "POST"), created=True)


async def write_created(session: AsyncSession) -> None:
    """Write the resources created in this session so far (they are written before the commit anyway)."""
    await store_repository.flush(session)


def forget_created(session: AsyncSession) -> None:
    """Drop the resources created since the last write (a batch entry that failed in its savepoint)."""
    session.info.pop(store_repository.PENDING, None)


async def update(
    session: AsyncSession,
    access: Access,
    rtype: str,
    rid: str,
    resource: dict,
    *,
    if_match: int | None = None,
    owner: str | None = None,
) -> Written:
    """PUT: a new version, or the resource created with the client's id. `if_match` is the version the
    client last read (If-Match: W/"3"); another current version is a 412. A resource a Zhiyi domain owns
    is written by that domain only (`owner`)."""
    await store_repository.flush(session)
    row = await store_repository.current(session, rtype, rid, for_update=True)
    if row is None:
        if if_match is not None:
            raise conflict(f"{rtype}/{rid} does not exist (If-Match: version {if_match})", status=412)
        written = await create(session, access, resource, rid=rid, owner=owner)
        return Written(
            Stored(rtype, rid, 1, written.stored.updated_at, False, written.stored.content, "PUT"), True
        )
    if row.owner is not None and row.owner != owner:
        raise _refuse_owned(rtype, rid, row.owner)
    if if_match is not None and if_match != row.version:
        raise conflict(f"{rtype}/{rid} is at version {row.version}, not {if_match}", status=412)
    if not row.deleted and not access.reaches(rtype, await store_repository.patients_of(session, row.pk)):
        raise not_found(rtype, rid)
    at = clock.now()
    version = row.version + 1
    content = _stamped(resource, rid, version, at, owner)
    index, patients = _index_rows(rtype, rid, content)
    if not access.reaches(rtype, patients):
        raise invalid("The resource would not be in your compartment.", status=403, code="forbidden")
    await store_repository.set_current(session, row.pk, version, at, deleted=False, owner=owner)
    await store_repository.insert_version(session, row.pk, rtype, version, at, "PUT", content)
    await store_repository.delete_index(session, row.pk)
    await store_repository.insert_index(session, row.pk, rtype, index)
    return Written(Stored(rtype, rid, version, at, False, content, "PUT"), created=row.deleted)


async def delete(
    session: AsyncSession, access: Access, rtype: str, rid: str, *, owner: str | None = None
) -> Stored | None:
    """A deletion version (410 for later reads); None when there was nothing to delete."""
    await store_repository.flush(session)
    row = await store_repository.current(session, rtype, rid, for_update=True)
    if row is None or row.deleted:
        return None
    if row.owner is not None and row.owner != owner:
        raise _refuse_owned(rtype, rid, row.owner)
    if not access.reaches(rtype, await store_repository.patients_of(session, row.pk)):
        raise not_found(rtype, rid)
    at = clock.now()
    version = row.version + 1
    await store_repository.set_current(session, row.pk, version, at, deleted=True, owner=row.owner)
    await store_repository.insert_version(session, row.pk, rtype, version, at, "DELETE", None)
    await store_repository.delete_index(session, row.pk)
    return Stored(rtype, rid, version, at, True, None, "DELETE")


async def read(session: AsyncSession, access: Access, rtype: str, rid: str) -> Stored:
    """The current version; 404 if unknown or not reachable by `access`, 410 if deleted."""
    await store_repository.flush(session)
    row = await store_repository.current(session, rtype, rid)
    if row is None:
        raise not_found(rtype, rid)
    if row.deleted:
        if not access.whole:  # whose it was is not for a patient's token to learn
            raise not_found(rtype, rid)
        raise gone(rtype, rid)
    if not await access.admits(session, rtype, await store_repository.patients_of(session, row.pk)):
        raise not_found(rtype, rid)
    stored = await store_repository.version(session, row.pk, rtype, rid, row.version)
    assert stored is not None
    return stored


async def _version_reachable(session: AsyncSession, access: Access, stored: Stored) -> bool:
    """Whether one kept version was in the caller's compartments when it was written (a resource moved
    from one patient to another keeps the first patient's versions from the second)."""
    if access.whole:
        return True
    if stored.content is None:
        return False
    _, patients = _index_rows(stored.type, stored.id, stored.content)
    return await access.admits(session, stored.type, patients)


async def vread(session: AsyncSession, access: Access, rtype: str, rid: str, version: int) -> Stored:
    await store_repository.flush(session)
    row = await store_repository.current(session, rtype, rid)
    stored = await store_repository.version(session, row.pk, rtype, rid, version) if row else None
    if stored is None or (not access.whole and not await _version_reachable(session, access, stored)):
        raise not_found(f"{rtype}/{rid}/_history", str(version))
    if stored.deleted:
        raise gone(f"{rtype}/{rid}/_history", str(version))
    return stored


async def history(
    session: AsyncSession,
    access: Access,
    *,
    rtype: str | None = None,
    rid: str | None = None,
    since: dt.datetime | None = None,
    count: int = 50,
    cursor: str | None = None,
) -> tuple[list[Stored], str | None]:
    """Versions newest first (instance, type or system history), and the next page's cursor."""
    await store_repository.flush(session)
    res_pk = None
    if rid is not None:
        row = await store_repository.current(session, rtype, rid)
        if row is None:
            raise not_found(rtype, rid)
        if not access.whole and not await access.admits(
            session, rtype, await store_repository.patients_of(session, row.pk)
        ):
            raise not_found(rtype, rid)
        res_pk = row.pk
    after = cursors.read_history(cursor) if cursor else None
    versions = await store_repository.versions(
        session,
        rtype=rtype,
        res_pk=res_pk,
        since=since,
        after=after,
        limit=count + 1,
        reach=access.reach if res_pk is None else None,
    )
    page = [v.stored for v in versions[:count]]
    following = None
    if len(versions) > count:
        last = versions[count - 1]
        following = cursors.write([last.stored.updated_at.isoformat(), last.pk, last.stored.version])
    if not access.whole:
        page = [v for v in page if await _version_reachable(session, access, v)]
    return page, following


async def search(
    session: AsyncSession,
    access: Access,
    rtype: str | None,
    params: list[tuple[str, str]],
    *,
    strict: bool = False,
    cursor: str | None = None,
) -> SearchResult:
    """A search as its parameters say (`params` in their order, names with modifiers, values raw); a
    refused parameter is a 400 FhirError."""
    await store_repository.flush(session)
    query = search_query.parse(rtype, params, strict=strict)
    result = await search_repository.run(session, query, reach=access.reach, cursor=cursor)
    matches = result.matches
    if query.summary or query.elements:
        matches = [
            replace(m, content=shaping.shape(m.content, summary=query.summary, elements=query.elements))
            for m in matches
        ]
    return SearchResult(
        matches=matches,
        included=result.included,
        total=result.total,
        next_cursor=result.next_cursor,
        warnings=query.warnings,
        self_params=query.self_params(),
    )


async def conditional_ids(
    session: AsyncSession, access: Access, rtype: str, criteria: list[tuple[str, str]]
) -> list[str]:
    """The ids of the current resources matching search `criteria` (conditional create and update)."""
    await store_repository.flush(session)
    query = search_query.parse(rtype, criteria, strict=True)
    return await search_repository.ids(session, query, reach=access.reach, limit=2)


async def everything(session: AsyncSession, access: Access, patient_id: str) -> list[Stored]:
    """Patient/$everything: the Patient and every current resource of its compartment."""
    await store_repository.flush(session)
    await read(session, access, "Patient", patient_id)  # 404/410 as a read would say
    # the Patient itself, not one linking to it (Patient.link puts it in the linked one's compartment)
    if not access.whole and not await access.admits(session, "Patient", {patient_id}):
        raise not_found("Patient", patient_id)
    return await store_repository.compartment(session, patient_id)
