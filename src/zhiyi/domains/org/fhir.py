"""The organisation as FHIR resources: a campus is an Organization and a site Location, its buildings,
floors and rooms Locations inside it, a department a HealthcareService, a practitioner a Practitioner
with one PractitionerRole. Ids are the rows' ids.

Org has no events and its service writes no rows (the demo and an import fill the tables), so the
resources are written by `project_all` (`zhiyi fhir sync`, and the end of seeding); a later service that
changes an org row calls the same mapping in its transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.org import repository as repo
from zhiyi.domains.org.models import Building, Campus, Department, DepartmentCampus, Floor, Practitioner, Room
from zhiyi.domains.org.schemas import Title
from zhiyi.fhir import bindings, owned

OWNER = "org"
CAMPUS = "urn:zhiyi:campus"
DEPARTMENT = "urn:zhiyi:department"
LOCATION = "urn:zhiyi:location"  # <campus code>/<building code>[/<level>] or <campus code>/<room code>
ROOM_KIND = "urn:zhiyi:room-kind"
STAFF_NUMBER = "urn:zhiyi:staff-number"
TITLE = "urn:zhiyi:practitioner-title"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"  # doctor, nurse, pharmacist
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
GENDER = {"M": "male", "F": "female"}
bindings.register(TITLE, lambda: [t.value for t in Title])


def ref(rtype: str, rid: uuid.UUID) -> dict:
    return {"reference": f"{rtype}/{rid}"}


def english(text: str) -> dict:
    """The standard translation extension (on `_name`): the English beside the Chinese."""
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [{"url": "lang", "valueCode": "en"}, {"url": "content", "valueString": text}],
            }
        ]
    }


def names(zh: str, en: str) -> list[dict]:
    """The Chinese name as written; the pinyin (surname first) split into family and given when known."""
    out: list[dict] = [{"use": "official", "text": zh}]
    parts = en.split()
    if len(parts) >= 2:
        out.append({"use": "usual", "text": en, "family": parts[0], "given": [" ".join(parts[1:])]})
    return out


def _physical(code: str) -> dict:
    return {"coding": [{"system": PHYSICAL_TYPE, "code": code}]}


def organization(c: Campus) -> dict:
    return {
        "resourceType": "Organization",
        "id": str(c.id),
        "identifier": [{"system": CAMPUS, "value": c.code}],
        "active": True,
        "type": [{"coding": [{"system": ORGANIZATION_TYPE, "code": "prov"}]}],
        "name": c.name_zh,
        "alias": [c.name_en],
        **({"address": [{"text": c.address_zh}]} if c.address_zh else {}),
    }


def _location(
    row_id, code: str, name_zh: str, name_en: str, physical: str, campus_id, part_of=None, **extra
) -> dict:
    """A place of the group: a campus's site, a building, a floor or a room."""
    return {
        "resourceType": "Location",
        "id": str(row_id),
        "identifier": [{"system": LOCATION, "value": code}],
        "status": "active",
        "name": name_zh,
        "alias": [name_en],
        "mode": "instance",
        "physicalType": _physical(physical),
        "managingOrganization": ref("Organization", campus_id),
        **({"partOf": ref("Location", part_of)} if part_of is not None else {}),
        **extra,
    }


def site(c: Campus) -> dict:
    """The campus as a place (the Location every building, room and clinic of it is part of)."""
    address = {"address": {"text": c.address_zh}} if c.address_zh else {}
    return _location(c.id, c.code, c.name_zh, c.name_en, "si", c.id, **address)


def building(b: Building, campus: Campus) -> dict:
    return _location(b.id, f"{campus.code}/{b.code}", b.name_zh, b.name_en, "bu", campus.id, campus.id)


def floor(f: Floor, b: Building, campus: Campus) -> dict:
    code = f"{campus.code}/{b.code}/{f.level}"
    return _location(f.id, code, f.name_zh, f.name_en, "lvl", campus.id, b.id)


def room(r: Room, campus: Campus) -> dict:
    kind = [{"coding": [{"system": ROOM_KIND, "code": r.kind}]}]
    code = f"{campus.code}/{r.code}"
    return _location(r.id, code, r.name_zh, r.name_en, "ro", campus.id, r.floor_id or campus.id, type=kind)


def department_coding(d: Department) -> dict:
    return {"system": DEPARTMENT, "code": d.code, "display": d.name_zh}


def healthcare_service(d: Department, parent: Department | None, clinics: list[DepartmentCampus]) -> dict:
    """A department of the group-wide catalogue; its locations are the campuses (and the floor, when
    known) where it holds a clinic. The parent group (Internal Medicine for Cardiology) is its category."""
    places: list[dict] = []
    for c in clinics:
        places.append(ref("Location", c.campus_id))
        if c.floor_id is not None:
            places.append(ref("Location", c.floor_id))
    return {
        "resourceType": "HealthcareService",
        "id": str(d.id),
        "identifier": [{"system": DEPARTMENT, "value": d.code}],
        "active": True,
        **({"category": [{"coding": [department_coding(parent)]}]} if parent else {}),
        "type": [{"coding": [department_coding(d)], "text": d.name_en}],
        **({"location": places} if places else {}),
        "name": d.name_zh,
        "_name": english(d.name_en),
    }


def practitioner(p: Practitioner) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": str(p.id),
        "identifier": [{"system": STAFF_NUMBER, "value": p.code}],
        "active": p.active,
        "name": names(p.name_zh, p.name_en),
        **({"gender": GENDER[p.sex]} if p.sex in GENDER else {}),
        "qualification": [{"code": {"coding": [{"system": TITLE, "code": p.title}]}}],
    }


def practitioner_role(p: Practitioner, campus_ids: list[uuid.UUID]) -> dict:
    """What the practitioner does, in which department, at which campuses (one role; its id is theirs)."""
    return {
        "resourceType": "PractitionerRole",
        "id": str(p.id),
        "active": p.active,
        "practitioner": ref("Practitioner", p.id),
        "code": [{"coding": [{"system": PRACTITIONER_ROLE, "code": p.profession}]}],
        **({"specialty": [{"text": s} for s in p.specialties]} if p.specialties else {}),
        **({"location": [ref("Location", c) for c in campus_ids]} if campus_ids else {}),
        "healthcareService": [ref("HealthcareService", p.department_id)],
    }


async def project_all(session: AsyncSession) -> int:
    """Write every org row's resource (unchanged ones make no new version); returns how many changed."""
    campuses = {c.id: c for c in await repo.campuses(session)}
    buildings = {b.id: b for b in await repo.buildings(session)}
    departments = {d.id: d for d in await repo.departments(session)}
    clinics: dict[uuid.UUID, list[DepartmentCampus]] = defaultdict(list)
    for c in await repo.clinics(session):
        clinics[c.department_id].append(c)
    works_at: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for pc in await repo.practitioner_campuses(session):
        works_at[pc.practitioner_id].append(pc.campus_id)
    resources: list[dict] = []
    for c in campuses.values():
        resources += [organization(c), site(c)]
    resources += [building(b, campuses[b.campus_id]) for b in buildings.values()]
    for f in await repo.floors(session):
        b = buildings[f.building_id]
        resources.append(floor(f, b, campuses[b.campus_id]))
    resources += [room(r, campuses[r.campus_id]) for r in await repo.rooms(session)]
    resources += [
        healthcare_service(d, departments.get(d.parent_id) if d.parent_id else None, clinics[d.id])
        for d in departments.values()
    ]
    for p in await repo.all_practitioners(session):
        resources += [practitioner(p), practitioner_role(p, works_at[p.id])]
    return await owned.put_many(session, owner=OWNER, resources=resources)
