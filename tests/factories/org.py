"""Factories for the organisation domain."""

from __future__ import annotations

import itertools

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

_n = itertools.count(1)


async def campus(session, *, code: str | None = None, is_main: bool = False) -> Campus:
    n = next(_n)
    c = Campus(code=code or f"C{n}", name_zh=f"院区{n}", name_en=f"Campus {n}", is_main=is_main)
    session.add(c)
    await session.flush()
    return c


async def department(session, *, code: str | None = None, parent: Department | None = None) -> Department:
    n = next(_n)
    d = Department(
        code=code or f"D{n}",
        name_zh=f"科室{n}",
        name_en=f"Department {n}",
        parent_id=parent.id if parent else None,
        aliases=[],
    )
    session.add(d)
    await session.flush()
    return d


async def practitioner(
    session, *, department: Department, campuses: list[Campus], title: str = "attending"
) -> Practitioner:
    n = next(_n)
    p = Practitioner(
        code=f"S{n:05d}",
        name_zh=f"医生{n}",
        name_en=f"Doctor {n}",
        sex="F",
        title=title,
        department_id=department.id,
        specialties=[],
        profession="doctor",
    )
    session.add(p)
    await session.flush()
    for c in campuses:
        session.add(PractitionerCampus(practitioner_id=p.id, campus_id=c.id))
    await session.flush()
    return p


async def room(session, *, campus: Campus, code: str | None = None, floor: Floor | None = None) -> Room:
    n = next(_n)
    r = Room(
        campus_id=campus.id,
        floor_id=floor.id if floor else None,
        code=code or f"R{n}",
        name_zh=f"{n}诊室",
        name_en=f"Room {n}",
    )
    session.add(r)
    await session.flush()
    return r


async def floor(session, *, campus: Campus, level: int = 3) -> tuple[Building, Floor]:
    """A building of the campus with one floor."""
    n = next(_n)
    b = Building(campus_id=campus.id, code=f"B{n}", name_zh=f"{n}号楼", name_en=f"Building {n}")
    session.add(b)
    await session.flush()
    f = Floor(building_id=b.id, level=level, name_zh=f"{level}楼", name_en=f"Floor {level}")
    session.add(f)
    await session.flush()
    return b, f


async def clinic(session, *, department: Department, campus: Campus, floor: Floor | None = None) -> None:
    """The department holds a clinic at the campus."""
    session.add(
        DepartmentCampus(
            department_id=department.id, campus_id=campus.id, floor_id=floor.id if floor else None
        )
    )
    await session.flush()
