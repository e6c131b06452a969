"""Every query on the patients domain's tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Exists, Select, Update, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.patients.models import Patient, PatientAccessGrant, PatientProxy, ProxyStatus


def verified_condition(patient_id) -> Exists:
    """The patient's identity has been verified (real-name registration), as SQL: what a statement that
    decides a booking selects (scheduling/rules.py), and the rush's function renders."""
    return exists().where(Patient.id == patient_id, Patient.verified_at.is_not(None))


async def get(session: AsyncSession, patient_id: uuid.UUID) -> Patient | None:
    return await session.get(Patient, patient_id)


async def get_many(session: AsyncSession, patient_ids: set[uuid.UUID]) -> list[Patient]:
    return list((await session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))).all())


async def by_id_hash(session: AsyncSession, id_hash: str) -> Patient | None:
    return await session.scalar(select(Patient).where(Patient.id_number_hash == id_hash))


async def is_active_proxy(session: AsyncSession, proxy_id: uuid.UUID, dependent_id: uuid.UUID) -> bool:
    q = select(
        exists().where(
            PatientProxy.proxy_patient_id == proxy_id,
            PatientProxy.dependent_patient_id == dependent_id,
            PatientProxy.status == ProxyStatus.active,
        )
    )
    return bool(await session.scalar(q))


async def proxy_link(
    session: AsyncSession, proxy_id: uuid.UUID, dependent_id: uuid.UUID
) -> PatientProxy | None:
    return await session.scalar(
        select(PatientProxy).where(
            PatientProxy.proxy_patient_id == proxy_id, PatientProxy.dependent_patient_id == dependent_id
        )
    )


async def get_link(session: AsyncSession, link_id: uuid.UUID) -> PatientProxy | None:
    return await session.get(PatientProxy, link_id)


# built once (a patient's family is read on every "my bookings" and "my waiting lists"): building a
# statement costs more than running it
_LINKS_OF_PROXY = (
    select(PatientProxy, Patient)
    .join(Patient, Patient.id == PatientProxy.dependent_patient_id)
    .where(PatientProxy.proxy_patient_id == bindparam("proxy_id"), PatientProxy.status != ProxyStatus.revoked)
    .order_by(PatientProxy.requested_at)
)


async def links_of_proxy(session: AsyncSession, proxy_id: uuid.UUID) -> list[tuple[PatientProxy, Patient]]:
    return [(link, p) for link, p in (await session.execute(_LINKS_OF_PROXY, {"proxy_id": proxy_id})).all()]


async def links_to_dependent(
    session: AsyncSession, dependent_id: uuid.UUID
) -> list[tuple[PatientProxy, Patient]]:
    q = (
        select(PatientProxy, Patient)
        .join(Patient, Patient.id == PatientProxy.proxy_patient_id)
        .where(PatientProxy.dependent_patient_id == dependent_id, PatientProxy.status != ProxyStatus.revoked)
    )
    return [(link, p) for link, p in (await session.execute(q)).all()]


async def search(
    session: AsyncSession,
    *,
    campus_ids: frozenset[uuid.UUID] | None,
    name: str | None,
    mrn: str | None,
    limit: int,
    phone: str | None = None,
    id_hash: str | None = None,
) -> list[Patient]:
    q = select(Patient)
    if campus_ids is not None:
        q = q.where(Patient.registered_campus_id.in_(campus_ids))
    if mrn:
        q = q.where(Patient.mrn == mrn)
    if name:
        q = q.where(Patient.name.startswith(name, autoescape=True))
    if phone:
        q = q.where(Patient.phone == phone)
    if id_hash:
        q = q.where(Patient.id_number_hash == id_hash)
    return list((await session.scalars(q.order_by(Patient.mrn).limit(limit))).all())


def ids_at_campuses(campus_ids: frozenset[uuid.UUID]) -> Select:
    return select(Patient.id).where(Patient.registered_campus_id.in_(campus_ids))


def count_wrong_code(link_id: uuid.UUID) -> Update:
    """A statement (applied even if the request fails) counting a wrong consent code."""
    return (
        update(PatientProxy)
        .where(PatientProxy.id == link_id)
        .values(consent_attempts=PatientProxy.consent_attempts + 1)
    )


async def has_grant(
    session: AsyncSession, *, account_id: uuid.UUID, patient_id: uuid.UUID, now: dt.datetime
) -> bool:
    q = select(
        exists().where(
            PatientAccessGrant.account_id == account_id,
            PatientAccessGrant.patient_id == patient_id,
            PatientAccessGrant.expires_at > now,
        )
    )
    return bool(await session.scalar(q))


async def grants_since(
    session: AsyncSession, *, since: dt.datetime, campus_ids: frozenset[uuid.UUID] | None, limit: int = 200
) -> list[tuple[PatientAccessGrant, Patient]]:
    q = (
        select(PatientAccessGrant, Patient)
        .join(Patient, Patient.id == PatientAccessGrant.patient_id)
        .where(PatientAccessGrant.granted_at >= since)
        .order_by(PatientAccessGrant.granted_at.desc())
        .limit(limit)
    )
    if campus_ids is not None:
        q = q.where(Patient.registered_campus_id.in_(campus_ids))
    return [(g, p) for g, p in (await session.execute(q)).all()]


async def patients_after(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Patient]:
    """Every patient, a page at a time in id order (the FHIR projection of the whole registry)."""
    q = select(Patient).order_by(Patient.id).limit(limit)
    if after is not None:
        q = q.where(Patient.id > after)
    return list((await session.scalars(q)).all())


async def active_links(session: AsyncSession) -> list[tuple[PatientProxy, Patient]]:
    """Every active family link with its proxy's record."""
    q = (
        select(PatientProxy, Patient)
        .join(Patient, Patient.id == PatientProxy.proxy_patient_id)
        .where(PatientProxy.status == ProxyStatus.active)
        .order_by(PatientProxy.id)
    )
    return [(link, p) for link, p in (await session.execute(q)).all()]
