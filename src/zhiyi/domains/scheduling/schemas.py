"""Pydantic types of the scheduling domain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, model_validator
from pydantic_core import PydanticCustomError

from zhiyi.core.fields import Strict


class BookingCreate(Strict):
    """Book a chosen time (`slot_id`) or the earliest free time of a session (`session_id`)."""

    slot_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None  # default: the caller's own record
    channel: Literal["online", "desk", "phone"] = "online"

    @model_validator(mode="after")
    def _one_target(self):
        if (self.slot_id is None) == (self.session_id is None):
            raise PydanticCustomError("one_of", "Give exactly one of slot_id and session_id")
        return self


class BookingRead(BaseModel):
    id: uuid.UUID
    slot_id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID
    department_id: uuid.UUID
    practitioner_id: uuid.UUID
    campus_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    session_on: dt.date
    status: str
    channel: str


class SlotRead(BaseModel):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    available: int


class SessionRead(BaseModel):
    id: uuid.UUID
    practitioner_id: uuid.UUID
    practitioner_name_zh: str
    practitioner_name_en: str
    practitioner_title: str
    department_id: uuid.UUID
    campus_id: uuid.UUID
    session_on: dt.date
    period: str
    clinic_type: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    release_at: dt.datetime
    released: bool
    capacity: int
    available: int
    status: str = "open"
