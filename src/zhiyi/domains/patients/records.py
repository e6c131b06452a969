"""A patient's record: registering, loading and changing it, its resident ID number (hashed to find it,
sealed, shown masked) and how its reader sees it. Public through service.py; services never commit."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, outbox, security
from zhiyi.core.config import get_settings
from zhiyi.domains.patients import events, resident_id
from zhiyi.domains.patients import repository as repo
from zhiyi.domains.patients.errors import PatientAlreadyRegistered, PatientNotFound, ResidentIdRuleViolated
from zhiyi.domains.patients.models import Patient
from zhiyi.domains.patients.schemas import PatientRead


def _secret() -> str:
    return get_settings().data_secret


def id_hash(number: str) -> str:
    return security.keyed_hash(_secret(), "resident-id", number)


def parse_resident_id(raw: str, field: str = "id_number") -> resident_id.ResidentId:
    try:
        return resident_id.parse(raw, today=clock.today())
    except resident_id.ResidentIdInvalid as exc:
        raise ResidentIdRuleViolated(exc.reason, field) from None


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_id_number(number: str) -> str:
    """The region's first four and the last four characters: never the birth date (characters 7-14)."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def masked_id_number(p: Patient) -> str | None:
    if not p.id_number_sealed:
        return None
    try:
        return mask_id_number(security.unseal(_secret(), "resident-id", p.id_number_sealed))
    except security.TokenInvalid:  # sealed under another data key: the last four are all we know
        return "*" * 14 + (p.id_number_last4 or "****")


def to_read(p: Patient, *, own: bool) -> PatientRead:
    """The record as its reader may see it. The patient (and a family proxy) see their date of birth;
    staff see the age instead, since beside the masked number the date of birth rebuilds 16 of its 18
    characters. The full number is shown only by `reveal_id_number`."""
    return PatientRead(
        id=p.id,
        mrn=p.mrn,
        name=p.name,
        name_en=p.name_en,
        sex=p.sex,
        birth_date=p.birth_date if own else None,
        age=age_on(p.birth_date, clock.today(get_settings().timezone)),
        id_number_masked=masked_id_number(p),
        phone=p.phone,
        insurance_type=p.insurance_type,
        insurance_number=p.insurance_number,
        emergency_contact_name=p.emergency_contact_name,
        emergency_contact_phone=p.emergency_contact_phone,
        emergency_contact_relation=p.emergency_contact_relation,
        address=p.address,
        registered_campus_id=p.registered_campus_id,
        verified=p.verified_at is not None,
    )


async def register_patient(
    session: AsyncSession,
    *,
    name: str,
    id_number: str,
    campus_id: uuid.UUID,
    name_en: str | None = None,
    phone: str | None = None,
    insurance_type: str = "self_pay",
    insurance_number: str | None = None,
    emergency_contact_name: str | None = None,
    emergency_contact_phone: str | None = None,
    emergency_contact_relation: str | None = None,
    address: str | None = None,
    verified: bool = False,
    mrn: str | None = None,
) -> Patient:
    rid = parse_resident_id(id_number)
    h = id_hash(rid.number)
    if await repo.by_id_hash(session, h) is not None:
        raise PatientAlreadyRegistered()
    now = clock.now()
    patient = Patient(
        mrn=mrn or f"P{secrets.randbelow(10**10):010d}",
        name=name,
        name_en=name_en or "",
        sex=rid.sex,
        birth_date=rid.birth_date,
        id_number_hash=h,
        id_number_sealed=security.seal(_secret(), "resident-id", rid.number),
        id_number_last4=rid.last4,
        phone=phone,
        insurance_type=insurance_type,
        insurance_number=insurance_number,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_contact_phone,
        emergency_contact_relation=emergency_contact_relation,
        address=address,
        registered_campus_id=campus_id,
        verified_at=now if verified else None,
        created_at=now,
        updated_at=now,
    )
    session.add(patient)
    await session.flush()
    await outbox.publish(
        session, events.PATIENT_REGISTERED, {"patient_id": str(patient.id), "campus_id": str(campus_id)}
    )
    return patient


async def get_patient(session: AsyncSession, *, patient_id: uuid.UUID) -> Patient:
    patient = await repo.get(session, patient_id)
    if patient is None:
        raise PatientNotFound()
    return patient


async def patients_by_ids(session: AsyncSession, *, ids: set[uuid.UUID]) -> dict[uuid.UUID, Patient]:
    """Records without an access decision: the caller has decided and audits what it shows."""
    return {p.id: p for p in await repo.get_many(session, ids)} if ids else {}


async def update_patient(session: AsyncSession, *, patient_id: uuid.UUID, changes: dict) -> Patient:
    patient = await get_patient(session, patient_id=patient_id)
    for key, value in changes.items():
        setattr(patient, key, value)
    patient.updated_at = clock.now()
    await outbox.publish(session, events.PATIENT_UPDATED, {"patient_id": str(patient.id)})
    return patient


async def find_by_id_number(session: AsyncSession, *, id_number: str) -> Patient | None:
    rid = parse_resident_id(id_number)
    return await repo.by_id_hash(session, id_hash(rid.number))


async def mark_verified(session: AsyncSession, *, patient_id: uuid.UUID) -> Patient:
    patient = await get_patient(session, patient_id=patient_id)
    patient.verified_at = patient.verified_at or clock.now()
    patient.updated_at = clock.now()
    return patient
