"""Every query on the organisation domain's tables."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.org.models import (
    Building,
    Campus,
    Department,
    DepartmentCampus,
    Floor,
    Practitioner,
    PractitionerCampus,
    Room,
)


async def campuses(session: AsyncSession) -> list[Campus]:
    return list((await session.scalars(select(Campus).order_by(Campus.is_main.desc(), Campus.code))).all())


async def campus_by_code(session: AsyncSession, code: str) -> Campus | None:
    return await session.scalar(select(Campus).where(Campus.code == code))


async def departments(session: AsyncSession) -> list[Department]:
    return list((await session.scalars(select(Department).order_by(Department.code))).all())


async def practitioners(
    session: AsyncSession,
    *,
    department_id: uuid.UUID | None,
    campus_id: uuid.UUID | None,
    title: str | None,
    limit: int,
) -> list[Practitioner]:
    q = select(Practitioner).where(Practitioner.active.is_(True))
    if department_id:
        q = q.where(Practitioner.department_id == department_id)
    if title:
        q = q.where(Practitioner.title == title)
    if campus_id:
        q = q.join(PractitionerCampus, PractitionerCampus.practitioner_id == Practitioner.id).where(
            PractitionerCampus.campus_id == campus_id
        )
    return list((await session.scalars(q.order_by(Practitioner.code).limit(limit))).all())


async def practitioners_in(session: AsyncSession, ids: set[uuid.UUID]) -> list[Practitioner]:
    return list((await session.scalars(select(Practitioner).where(Practitioner.id.in_(ids)))).all())


async def rooms_in(session: AsyncSession, ids: set[uuid.UUID]) -> list[Room]:
    return list((await session.scalars(select(Room).where(Room.id.in_(ids)))).all())


# --- the whole organisation, for its FHIR resources (fhir.py) ------------------------------------


async def buildings(session: AsyncSession) -> list[Building]:
    return list((await session.scalars(select(Building).order_by(Building.id))).all())


async def floors(session: AsyncSession) -> list[Floor]:
    return list((await session.scalars(select(Floor).order_by(Floor.id))).all())


async def rooms(session: AsyncSession) -> list[Room]:
    return list((await session.scalars(select(Room).order_by(Room.id))).all())


async def clinics(session: AsyncSession) -> list[DepartmentCampus]:
    """Where each department has its clinic (department, campus, floor)."""
    q = select(DepartmentCampus).order_by(DepartmentCampus.department_id, DepartmentCampus.campus_id)
    return list((await session.scalars(q)).all())


async def all_practitioners(session: AsyncSession) -> list[Practitioner]:
    """Active or not (an inactive one's resource says so)."""
    return list((await session.scalars(select(Practitioner).order_by(Practitioner.id))).all())


async def practitioner_campuses(session: AsyncSession) -> list[PractitionerCampus]:
    q = select(PractitionerCampus).order_by(PractitionerCampus.practitioner_id, PractitionerCampus.campus_id)
    return list((await session.scalars(q)).all())
