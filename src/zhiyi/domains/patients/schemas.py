"""Pydantic types of the patients domain."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from zhiyi.core.fields import PersonName, Phone, PlainText, Strict
from zhiyi.domains.patients.models import InsuranceType, Relationship


class PatientCreate(Strict):
    name: PersonName
    name_en: PersonName | None = None
    id_number: str = Field(min_length=1, max_length=18)
    phone: Phone | None = None
    insurance_type: InsuranceType = InsuranceType.self_pay
    insurance_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,30}$")
    emergency_contact_name: PersonName | None = None
    emergency_contact_phone: Phone | None = None
    emergency_contact_relation: PlainText | None = None
    address: PlainText | None = None
    registered_campus_id: uuid.UUID | None = None


class PatientUpdate(Strict):
    name_en: PersonName | None = None
    phone: Phone | None = None
    insurance_type: InsuranceType | None = None
    insurance_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,30}$")
    emergency_contact_name: PersonName | None = None
    emergency_contact_phone: Phone | None = None
    emergency_contact_relation: PlainText | None = None
    address: PlainText | None = None


class PatientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mrn: str
    name: str
    name_en: str
    sex: str
    birth_date: dt.date
    id_number_masked: str | None
    phone: str | None
    insurance_type: str
    insurance_number: str | None
    emergency_contact_name: str | None
    emergency_contact_phone: str | None
    emergency_contact_relation: str | None
    address: str | None
    registered_campus_id: uuid.UUID
    verified: bool


class DependentCreate(Strict):
    """Link (and if new, register) a family member the patient will manage."""

    name: PersonName
    id_number: str = Field(min_length=1, max_length=18)
    relationship: Relationship
    phone: Phone | None = None
    insurance_type: InsuranceType = InsuranceType.self_pay


class ProxyConfirm(Strict):
    code: str = Field(pattern=r"^\d{6}$")


class ProxyRead(BaseModel):
    id: uuid.UUID
    dependent_patient_id: uuid.UUID
    dependent_name: str
    relationship: str
    status: str
    consent_method: str | None


class OneCodeRead(BaseModel):
    token: str
    expires_in: int
    svg: str


class OneCodeScan(Strict):
    token: str = Field(min_length=10, max_length=500)
