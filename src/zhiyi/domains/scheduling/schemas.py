"""Pydantic types of the scheduling domain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, model_validator
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

    def fingerprint(self, patient_id: uuid.UUID) -> dict:
        """What an Idempotency-Key is held to: a retry with another request is refused."""
        return {"op": "book", **self.model_dump(mode="json"), "patient_id": str(patient_id)}


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
    room_id: uuid.UUID | None = None
    holiday: bool = False  # on a public holiday


class WaitlistJoin(Strict):
    """Wait for a place in a full clinic session."""

    session_id: uuid.UUID
    patient_id: uuid.UUID | None = None  # default: the caller's own record


class WaitlistEntryRead(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID
    department_id: uuid.UUID
    practitioner_id: uuid.UUID
    campus_id: uuid.UUID
    session_on: dt.date
    period: str
    status: str  # waiting | offered | booked | declined | expired | left
    joined_at: dt.datetime
    position: int | None = None  # place in line while waiting (1 = next)
    slot_id: uuid.UUID | None = None  # the held place, once offered
    slot_starts_at: dt.datetime | None = None
    slot_ends_at: dt.datetime | None = None
    hold_expires_at: dt.datetime | None = None  # accept before this
    booking_id: uuid.UUID | None = None  # once accepted


class SessionMove(Strict):
    starts_at: AwareDatetime  # the new start (with its UTC offset); the session keeps its length


class SessionChangeRead(BaseModel):
    session_id: uuid.UUID
    rebooked: list[uuid.UUID]  # the new bookings of patients moved elsewhere
    cancelled: list[uuid.UUID]  # bookings left without a place (the patients are told)
    moved: list[uuid.UUID]  # bookings that followed a moved session
