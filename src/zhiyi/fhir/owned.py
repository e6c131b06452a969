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
    rtype, rid = resource["resourceType"], resource["id"]
    row = await store_repository.current(session, rtype, rid)
    if row is not None and not row.deleted and row.owner == owner:
        kept = await store_repository.version(session, row.pk, rtype, rid, row.version)
        if kept is not None and _same(kept.content, resource):
            return False
    await store.update(session, SYSTEM, rtype, rid, resource, owner=owner)
    return True


async def remove(session: AsyncSession, *, owner: str, rtype: str, rid: str) -> None:
    """The row is gone: its resource is deleted (its versions stay in the history)."""
    await store.delete(session, SYSTEM, rtype, rid, owner=owner)
