"""Public operations of the organisation domain."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.org import catalogue
from zhiyi.domains.org import repository as repo
from zhiyi.domains.org.errors import CampusNotFound
from zhiyi.domains.org.models import Campus, Department, Practitioner, Room
from zhiyi.domains.org.schemas import DepartmentNode


async def list_campuses(session: AsyncSession) -> list[Campus]:
    return await repo.campuses(session)


async def campus_by_code(session: AsyncSession, *, code: str) -> Campus:
    campus = await repo.campus_by_code(session, code)
    if campus is None:
        raise CampusNotFound()
    return campus


async def department_tree(session: AsyncSession) -> list[DepartmentNode]:
    rows = await repo.departments(session)
    nodes = {
        d.id: DepartmentNode(
            id=d.id,
            code=d.code,
            name_zh=d.name_zh,
            name_en=d.name_en,
            aliases=list(d.aliases or []),
            children=[],
        )
        for d in rows
    }
    roots: list[DepartmentNode] = []
    for d in rows:
        (nodes[d.parent_id].children if d.parent_id in nodes else roots).append(nodes[d.id])
    return roots


async def list_practitioners(
    session: AsyncSession,
    *,
    department_id: uuid.UUID | None = None,
    campus_id: uuid.UUID | None = None,
    title: str | None = None,
    limit: int = 100,
) -> list[Practitioner]:
    return await repo.practitioners(
        session, department_id=department_id, campus_id=campus_id, title=title, limit=limit
    )


async def department_subtree_ids(session: AsyncSession, *, department_id: uuid.UUID) -> list[uuid.UUID]:
    """A department and all its subspecialties (Internal Medicine -> Cardiology, ...)."""
    rows = await repo.departments(session)
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for d in rows:
        children.setdefault(d.parent_id, []).append(d.id)
    out, todo = [], [department_id]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


async def practitioners_by_ids(
    session: AsyncSession, *, ids: set[uuid.UUID]
) -> dict[uuid.UUID, Practitioner]:
    return {p.id: p for p in await repo.practitioners_in(session, ids)} if ids else {}


async def rooms_by_ids(session: AsyncSession, *, ids: set[uuid.UUID]) -> dict[uuid.UUID, Room]:
    return {r.id: r for r in await repo.rooms_in(session, ids)} if ids else {}


async def departments_by_code(session: AsyncSession) -> dict[str, Department]:
    """The catalogue as this hospital group has it, by stable code."""
    return {d.code: d for d in await repo.departments(session)}


def department_catalogue() -> tuple[catalogue.DepartmentSpec, ...]:
    """The group-wide clinical catalogue as shipped (codes, names, aliases, hierarchy), without a database."""
    return catalogue.DEPARTMENTS
