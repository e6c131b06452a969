"""Pydantic types of the organisation domain."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict


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
