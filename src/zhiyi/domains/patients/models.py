"""Tables of the patients domain."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhiyi.core.db import Base, IdMixin


class InsuranceType(StrEnum):
    urban_employee = "urban_employee"  # 城镇职工基本医疗保险
    urban_rural_resident = "urban_rural_resident"  # 城乡居民基本医疗保险
    commercial = "commercial"  # 商业保险
    self_pay = "self_pay"  # 自费


class Relationship(StrEnum):
    child = "child"
    parent = "parent"
    spouse = "spouse"
    grandparent = "grandparent"
    other = "other"


class ProxyStatus(StrEnum):
    pending = "pending"
    active = "active"
    revoked = "revoked"


class Patient(IdMixin, Base):
    __tablename__ = "patient"

    mrn: Mapped[str] = mapped_column(String(20), unique=True)  # group-wide record number
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    sex: Mapped[str] = mapped_column(String(1))  # M | F
    birth_date: Mapped[dt.date]
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_sealed: Mapped[str | None] = mapped_column(String(200))
    id_number_last4: Mapped[str | None] = mapped_column(String(4))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    insurance_type: Mapped[str] = mapped_column(String(30), default=InsuranceType.self_pay)
    insurance_number: Mapped[str | None] = mapped_column(String(40))
    emergency_contact_name: Mapped[str | None] = mapped_column(String(60))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(20))
    emergency_contact_relation: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    registered_campus_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campus.id"), index=True)
    verified_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class PatientProxy(IdMixin, Base):
    """A family proxy: `proxy_patient_id` may act for `dependent_patient_id` once active."""

    __tablename__ = "patient_proxy"
    __table_args__ = (
        UniqueConstraint("proxy_patient_id", "dependent_patient_id"),
        Index("ix_patient_proxy_lookup", "dependent_patient_id", "proxy_patient_id", "status"),
    )

    proxy_patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    dependent_patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    relationship: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ProxyStatus.pending)
    consent_method: Mapped[str | None] = mapped_column(String(30))  # sms_code | guardian | in_app
    consent_code_hash: Mapped[str | None] = mapped_column(String(64))
    consent_code_expires_at: Mapped[dt.datetime | None]
    consent_attempts: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[dt.datetime]
    requested_by_account_id: Mapped[uuid.UUID | None]
    consented_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class PatientAccessGrant(IdMixin, Base):
    """ "Break the glass": a clinician without a care relationship opened a patient's record, with a reason,
    for a while. Listed on the privacy officer's page; every use is audited as any read."""

    __tablename__ = "patient_access_grant"
    __table_args__ = (
        Index("ix_patient_access_grant_account_patient", "account_id", "patient_id", "expires_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    actor_name: Mapped[str] = mapped_column(String(100))  # as the privacy officer reads it
    actor_roles: Mapped[str] = mapped_column(String(100))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[dt.datetime] = mapped_column(index=True)
    expires_at: Mapped[dt.datetime]
