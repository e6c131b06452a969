"""The demo hospital group's organisation: campuses, buildings and floors, the department
catalogue, each campus's clinics and their consulting rooms (no random choice: the catalogue
decides all of it)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import ids
from zhiyi.demo import catalog as cat
from zhiyi.domains.org.models import Building, Campus, Department, DepartmentCampus, Floor, Room


@dataclass
class Org:
    campus_ids: dict[str, uuid.UUID]
    department_ids: dict[str, uuid.UUID]
    counts: dict[str, int]


async def insert_batches(session: AsyncSession, *batches: Sequence) -> None:
    """Insert batches in order, one flush each: the models declare no relationship(),
    so the unit of work does not order inserts of different tables by foreign key."""
    for batch in batches:
        session.add_all(batch)
        await session.flush()


async def seed_org(session: AsyncSession) -> Org:
    campus_ids: dict[str, uuid.UUID] = {}
    # campus -> (building code, level -> floor id)
    clinic_floors: dict[str, tuple[str, dict[int, uuid.UUID]]] = {}
    campuses: list[Campus] = []
    buildings: list[Building] = []
    floors: list[Floor] = []
    for c in cat.CAMPUSES:
        campus = Campus(
            id=ids.new_id(),
            code=c.code,
            name_zh=c.name_zh,
            name_en=c.name_en,
            address_zh=c.address_zh,
            address_en=c.address_en,
            is_main=c.is_main,
        )
        campus_ids[c.code] = campus.id
        campuses.append(campus)
        for b in c.buildings:
            building = Building(
                id=ids.new_id(), campus_id=campus.id, code=b.code, name_zh=b.name_zh, name_en=b.name_en
            )
            buildings.append(building)
            levels: dict[int, uuid.UUID] = {}
            for level in [*range(-b.basements, 0), *range(1, b.floors + 1)]:
                floor = Floor(
                    id=ids.new_id(),
                    building_id=building.id,
                    level=level,
                    name_zh=f"地下{-level}层" if level < 0 else f"{level}层",
                    name_en=f"Basement {-level}" if level < 0 else f"Floor {level}",
                )
                levels[level] = floor.id
                floors.append(floor)
            if b.clinic and c.code not in clinic_floors:
                clinic_floors[c.code] = (b.code, levels)
    await insert_batches(session, campuses, buildings, floors)

    department_ids: dict[str, uuid.UUID] = {}
    rows = []
    for d in cat.ALL_DEPARTMENTS:  # parents first
        dept = Department(
            id=ids.new_id(),
            code=d.code,
            parent_id=department_ids[d.parent_code] if d.parent_code else None,
            name_zh=d.name_zh,
            name_en=d.name_en,
            aliases=list(d.aliases),
            is_clinical=d.is_clinical,
        )
        department_ids[d.code] = dept.id
        rows.append(dept)
    await insert_batches(session, rows)  # in catalogue order: parents first

    # Clinics: Emergency on the ground floor, the others in catalogue order over the upper
    # floors of the campus's outpatient building; consulting rooms next to each clinic.
    clinics: list[DepartmentCampus] = []
    rooms: list[Room] = []
    leaves = cat.leaf_departments()
    for c in cat.CAMPUSES:
        building_code, levels = clinic_floors[c.code]
        here = [d for d in leaves if c.code in d.campuses]
        ground = [d for d in here if d.code == "EM"]
        upper = [d for d in here if d.code != "EM"]
        upper_levels = [lv for lv in sorted(levels) if lv >= 2] or [1]
        per_floor = math.ceil(len(upper) / len(upper_levels))
        placed = [(d, 1) for d in ground] + [(d, upper_levels[i // per_floor]) for i, d in enumerate(upper)]
        next_room: dict[int, int] = {}
        for d, level in placed:
            floor_id = levels[level]
            clinics.append(
                DepartmentCampus(
                    department_id=department_ids[d.code], campus_id=campus_ids[c.code], floor_id=floor_id
                )
            )
            for k in range(1, (d.weight + 1 if c.is_main else d.weight) + 1):
                seq = next_room.get(level, 0) + 1
                next_room[level] = seq
                rooms.append(
                    Room(
                        id=ids.new_id(),
                        campus_id=campus_ids[c.code],
                        floor_id=floor_id,
                        department_id=department_ids[d.code],
                        code=f"{building_code}{level}{seq:02d}",
                        name_zh=f"{d.name_zh}{k}诊室",
                        name_en=f"{d.name_en} Consulting Room {k}",
                        kind="consulting",
                    )
                )
    await insert_batches(session, clinics, rooms)
    return Org(
        campus_ids,
        department_ids,
        counts={
            "campuses": len(campuses),
            "buildings": len(buildings),
            "floors": len(floors),
            "departments": len(department_ids),
            "clinics": len(clinics),
            "rooms": len(rooms),
        },
    )
