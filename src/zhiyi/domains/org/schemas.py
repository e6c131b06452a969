"""Pydantic types of the organisation domain."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from zhiyi.core.i18n import N_


class Title(StrEnum):
    resident = "resident"  # 住院医师
    attending = "attending"  # 主治医师
    associate_chief = "associate_chief"  # 副主任医师
    chief = "chief"  # 主任医师


TITLE_LABELS = {
    Title.resident: N_("Resident physician"),
    Title.attending: N_("Attending physician"),
    Title.associate_chief: N_("Associate chief physician"),
    Title.chief: N_("Chief physician"),
}


class CampusRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    is_main: bool


class DepartmentNode(BaseModel):
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    aliases: list[str]
    children: list[DepartmentNode] = []


class PractitionerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    title: str
    department_id: uuid.UUID
    specialties: list[str]
    profession: str
