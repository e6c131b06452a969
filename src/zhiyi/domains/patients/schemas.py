"""Pydantic types of the patients domain."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from zhiyi.core.fields import PersonName, Phone, PlainText, Strict
from zhiyi.core.i18n import N_
from zhiyi.domains.patients.models import InsuranceType, Relationship

Relation = Annotated[PlainText, StringConstraints(max_length=20)]  # e.g. 父亲, 配偶


RELATIONSHIP_LABELS = {
    "child": N_("Child"),
    "parent": N_("Parent"),
    "spouse": N_("Spouse"),
    "grandparent": N_("Grandparent"),
    "other": N_("Other"),
}


@dataclass(frozen=True)
class FamilyMember:
    """Someone a user acts for on the pages: themself or a family member."""

    id: uuid.UUID
    name: str
    relationship: str | None  # None: the user themself; "desk": the one patient a registration desk acts for

    def label(self, t) -> str:
        """How pages name this person, in the translator `t`'s language ("Myself (name)", "name · Child")."""
        if self.relationship is None:
            return t.gettext("Myself (%(name)s)", name=self.name)
        if self.relationship == "desk":
            return t.gettext("%(name)s (at the desk)", name=self.name)
        return f"{self.name} · {t.gettext(RELATIONSHIP_LABELS.get(self.relationship, self.relationship))}"


class PatientCreate(Strict):
    name: PersonName
    name_en: PersonName | None = None
    id_number: str = Field(min_length=1, max_length=18)
    phone: Phone | None = None
    insurance_type: InsuranceType = InsuranceType.self_pay
    insurance_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,30}$")
    emergency_contact_name: PersonName | None = None
    emergency_contact_phone: Phone | None = None
    emergency_contact_relation: Relation | None = None
    address: PlainText | None = None
    registered_campus_id: uuid.UUID | None = None


class PatientUpdate(Strict):
    """Only the fields sent change; `null` clears an optional field and is refused for the others."""

    name_en: PersonName | None = None
    phone: Phone | None = None
    insurance_type: InsuranceType | None = None
    insurance_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,30}$")
    emergency_contact_name: PersonName | None = None
    emergency_contact_phone: Phone | None = None
    emergency_contact_relation: Relation | None = None
    address: PlainText | None = None

    @model_validator(mode="after")
    def _required_stay_set(self):
        for name in ("name_en", "insurance_type"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("null_not_allowed", "{field} cannot be empty", {"field": name})
        return self


class PatientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mrn: str
    name: str
    name_en: str
    sex: str
    birth_date: dt.date | None = Field(
        description="Only to the patient and their family proxies; staff see `age`"
    )
    age: int
    id_number_masked: str | None = Field(
        description="Region (4) and last four characters: 3413**********7804"
    )
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


class Reason(Strict):
    """Why a sensitive access is needed (a full ID number shown, a record opened without a care
    relationship): recorded in the audit trail."""

    reason: Annotated[PlainText, StringConstraints(min_length=4, max_length=200)]


class IdNumberRead(BaseModel):
    id_number: str


class OneCodeScan(Strict):
    token: str = Field(min_length=10, max_length=500)
