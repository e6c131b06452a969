"""Zhiyi's own rows as FHIR resources: each domain's fhir.py maps its rows and writes them here, in the
same transaction as the change or from an outbox handler (docs/fhir.md states the delay).

The resources a domain writes carry `meta.source` urn:zhiyi:<domain> and the store's `owner` column; a
FHIR client's write to one of them is refused (store.py), since the domain's rules (a booking's capacity,
a patient's verified identity) live in its service, not in the repository.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.fhir import store, store_repository
from zhiyi.fhir.access import Access

SYSTEM = Access(None, None)  # a domain writing its own rows' resources: no caller's compartment applies


def _same(kept: dict | None, resource: dict) -> bool:
    if kept is None:
        return False
    strip = ("meta", "id")
    return {k: v for k, v in kept.items() if k not in strip} == {
        k: v for k, v in resource.items() if k not in strip
    }


async def put(session: AsyncSession, *, owner: str, resource: dict) -> bool:
    """Write the resource `owner`'s mapping made of one of its rows; False when the kept version already
    says the same (a re-projection makes no new version)."""
    return await put_many(session, owner=owner, resources=[resource]) == 1


async def put_many(session: AsyncSession, *, owner: str, resources: list[dict]) -> int:
    """Write many rows' resources: the kept ones read in one query a chunk, the new ones written together
    (store.create defers them), only the changed ones updated. Returns how many were written."""
    resources = list({(r["resourceType"], r["id"]): r for r in resources}.values())  # the last of each
    if not resources:
        return 0
    await store.write_created(session)  # what this session created before is seen by the reading
    kept = await store_repository.kept_many(session, [(r["resourceType"], r["id"]) for r in resources])
    written = 0
    for resource in resources:
        key = (resource["resourceType"], resource["id"])
        found = kept.get(key)
        if found is None:
            await store.create(session, SYSTEM, resource, rid=resource["id"], owner=owner)
        elif found.current.owner == owner and not found.current.deleted and _same(found.content, resource):
            continue
        else:
            await store.update(session, SYSTEM, key[0], key[1], resource, owner=owner)
        written += 1
    return written


async def remove(session: AsyncSession, *, owner: str, rtype: str, rid: str) -> None:
    """The row is gone: its resource is deleted (its versions stay in the history)."""
    await store.delete(session, SYSTEM, rtype, rid, owner=owner)
