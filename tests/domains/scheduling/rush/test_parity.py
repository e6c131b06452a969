"""The lane and the usual path write the same rows (PostgreSQL): one patient books a session through the
rush lane, another books a twin session through an app with the lane off, and every row each request
wrote (booking, audit, outbox, idempotency record, the slot's count) is compared column by column, with
each world's ids, times and request ids put in the same words."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from tests.domains.scheduling.rush.test_own_booking import book, clinic, one_statement  # noqa: F401  (fixtures)
from zhiyi.app import create_app
from zhiyi.core.audit import AuditEvent
from zhiyi.core.idempotency import IdempotencyRecord
from zhiyi.core.outbox import OutboxEvent
from zhiyi.domains.scheduling.models import Booking, ClinicSession, Slot

_WRITTEN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")  # a time in an answer


def _plain(value, names: dict[str, str]):
    """A column's value in words both worlds share: its ids by role, times as 'time' (in an answer's
    JSON, the written time with its digits masked)."""
    if isinstance(value, dict):
        return {k: _plain(v, names) for k, v in value.items()}
    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, dt.datetime):
        return "time"
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, str) and _WRITTEN_TIME.match(value):  # the format compared, not the instant
        return re.sub(r"\d", "9", value)
    return value


def _row(obj, names: dict[str, str]) -> dict:
    return {c.key: _plain(getattr(obj, c.key), names) for c in obj.__table__.columns}


async def _written(db, *, cs: ClinicSession, patient, acct, answer: httpx.Response, key: str) -> dict:
    body = answer.json()
    request_id = answer.headers["X-Request-ID"]
    async with db.sessionmaker() as s:
        slot = await s.get(Slot, uuid.UUID(body["slot_id"]))
        names = {
            str(cs.id): "session",
            str(slot.id): "slot",
            body["id"]: "booking",
            str(patient.id): "patient",
            str(acct.id): "account",
            str(cs.department_id): "department",
            str(cs.practitioner_id): "practitioner",
            str(cs.campus_id): "campus",
            request_id: "request",
            key: "key",
        }
        booking = await s.get(Booking, uuid.UUID(body["id"]))
        audit = (
            await s.scalars(
                select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.action)
            )
        ).all()
        events = (
            await s.scalars(
                select(OutboxEvent).where(OutboxEvent.payload["booking_id"].as_string() == body["id"])
            )
        ).all()
        record = await s.get(IdempotencyRecord, (acct.id, key))
        return {
            "answer": (answer.status_code, _plain(body, names)),
            "booking": _row(booking, names),
            "slot booked": slot.booked,
            "audit": [{k: v for k, v in _row(a, names).items() if k != "id"} for a in audit],
            "outbox": [{k: v for k, v in _row(e, names).items() if k != "id"} for e in events],
            "idempotency": {k: v for k, v in _row(record, names).items() if k != "request_hash"},
        }


async def test_the_lane_and_the_usual_path_write_the_same_rows(daytime, clinic, backend, one_statement):  # noqa: F811
    if backend.name != "postgresql":
        pytest.skip("the lane runs on PostgreSQL")
    db, lane_client, make, patients = clinic
    first, _ = await make(places=3)
    twin, _ = await make(places=3)
    async with db.sessionmaker() as s:  # the twin session in the first one's department: the same world twice
        twin_row = await s.get(ClinicSession, twin.id)
        twin_row.department_id = first.department_id
        await s.commit()
        twin = twin_row
    (p1, a1, h1), (p2, a2, h2) = await patients(2)

    lane_answer = await book(lane_client, h1, first.id, key="parity-key-lane")
    assert len(one_statement) == 1 and one_statement[0] is not None  # the lane booked it
    usual_app = create_app(db.settings.model_copy(update={"rush_lane": False}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=usual_app), base_url="http://t"
    ) as usual_client:
        usual_answer = await book(usual_client, h2, twin.id, key="parity-key-usual")
    assert len(one_statement) == 1  # the usual path asked the lane nothing

    lane = await _written(db, cs=first, patient=p1, acct=a1, answer=lane_answer, key="parity-key-lane")
    usual = await _written(db, cs=twin, patient=p2, acct=a2, answer=usual_answer, key="parity-key-usual")
    assert lane["answer"][0] == 201 and lane["audit"] and lane["outbox"]
    for part in lane:
        assert lane[part] == usual[part], f"{part}:\n lane  {lane[part]}\n usual {usual[part]}"
