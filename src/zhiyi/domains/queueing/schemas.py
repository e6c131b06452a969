"""Pydantic types of the queueing domain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel

from zhiyi.core.fields import Strict

StaffReason = Literal["disabled", "pregnant"]


class CheckInByToken(Strict):
    """A desk or kiosk scanned the patient's one-code QR."""

    token: str
    booking_id: uuid.UUID | None = None  # when the patient has several appointments today
    priority_reason: StaffReason | None = None


class EntryRead(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID
    number: int
    status: str
    priority_reason: str | None
    order_at: dt.datetime
    checked_in_at: dt.datetime
    check_in_method: str
    called_at: dt.datetime | None
    recalls: int


class Position(BaseModel):
    """What the patient's phone shows: how many are ahead and about how long."""

    booking_id: uuid.UUID
    session_id: uuid.UUID
    number: int
    status: str
    ahead: int
    minutes: int
    calling: int | None  # the number in the consulting room now
    version: int


class Board(BaseModel):
    """A clinic session's queue (the doctor's page and the waiting-area screen)."""

    session_id: uuid.UUID
    version: int
    current: EntryRead | None
    waiting: list[EntryRead]
    away: list[EntryRead]
    skipped: list[EntryRead]
    done: int
    minutes_per_patient: int


class QueueAction(Strict):
    action: Literal["call_next", "recall", "skip", "away", "finish"]
    expected_version: int | None = None  # the board's version the caller saw (refused if it changed)
