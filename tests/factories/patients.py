"""Factories for the patients domain: valid resident ID numbers, real service calls."""

from __future__ import annotations

import datetime as dt
import itertools

from zhiyi.core import clock, security
from zhiyi.core.config import get_settings
from zhiyi.domains.patients import resident_id
from zhiyi.domains.patients import service as patients
from zhiyi.domains.patients.models import PatientProxy

_seq = itertools.count(1)


def id_number(*, age: int = 40, male: bool = True) -> str:
    n = next(_seq)
    today = clock.today()
    birth = dt.date(today.year - age, 1 + n % 12, 1 + n % 28)
    seq = (n * 2 + (1 if male else 0)) % 1000
    return resident_id.make("310104", birth, seq)


async def patient(
    session,
    *,
    campus,
    name: str = "张三",
    age: int = 40,
    male: bool = True,
    phone: str | None = None,
    verified: bool = True,
):
    n = next(_seq)
    return await patients.register_patient(
        session,
        name=name,
        id_number=id_number(age=age, male=male),
        campus_id=campus.id,
        phone=phone or f"139{n:08d}",
        verified=verified,
    )


def security_id(patient) -> str:
    """The resident ID number of a registered patient (stored sealed)."""
    return security.unseal(get_settings().data_secret, "resident-id", patient.id_number_sealed)


async def family_link(session, *, proxy, dependent, relationship: str = "parent"):
    """An active family proxy link (as after the dependent's SMS consent)."""
    now = clock.now()
    link = PatientProxy(
        proxy_patient_id=proxy.id,
        dependent_patient_id=dependent.id,
        relationship=relationship,
        status="active",
        consent_method="sms_code",
        consent_attempts=0,
        requested_at=now,
        consented_at=now,
    )
    session.add(link)
    await session.flush()
    return link
