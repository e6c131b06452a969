"""Seeds a slot release for the rush: one department, N doctors with one session each
the day after tomorrow (M one-place slots each), P verified patients with accounts, and an access token
per patient (minted directly, with a sign-in row each for the server to find, so no login storm is needed)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, ids, security
from zhiyi.core.policy import Actor
from zhiyi.domains.identity import service as identity
from zhiyi.domains.identity.models import Account, RefreshToken
from zhiyi.domains.org.models import Campus, Department, Practitioner
from zhiyi.domains.patients.models import Patient
from zhiyi.domains.scheduling.models import ClinicSession, Slot


@dataclass
class Release:
    session_ids: list[str]
    patient_ids: list[str]
    account_ids: list[str]
    tokens: list[str]
    slots: int
    release_at: dt.datetime


async def seed_release(
    session: AsyncSession,
    *,
    secret: str,
    doctors: int,
    slots_per_doctor: int,
    patients: int,
    release_at: dt.datetime,
) -> Release:
    now = clock.now()
    campus = Campus(id=ids.new_id(), code="BENCH", name_zh="压测院区", name_en="Bench campus", is_main=True)
    dept = Department(
        id=ids.new_id(), code="BENCH.CARD", name_zh="心血管内科", name_en="Cardiology", aliases=[]
    )
    session.add_all([campus, dept])
    await session.flush()
    docs = [
        {
            "id": ids.new_id(),
            "code": f"B{i:05d}",
            "name_zh": f"医生{i}",
            "name_en": f"Doctor {i}",
            "sex": "F",
            "title": "chief",
            "department_id": dept.id,
            "specialties": [],
            "profession": "doctor",
            "active": True,
        }
        for i in range(doctors)
    ]
    await session.execute(insert(Practitioner), docs)
    # the day after tomorrow: "tomorrow at 00:30 UTC" is under two hours away late in a UTC day, and
    # cancellations so close to the appointment are refused (the cancel cut-off)
    day = (now + dt.timedelta(days=2)).date()
    start = dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC)
    sessions, slots = [], []
    for d in docs:
        sid = ids.new_id()
        sessions.append(
            {
                "id": sid,
                "practitioner_id": d["id"],
                "department_id": dept.id,
                "campus_id": campus.id,
                "room_id": None,
                "session_on": day,
                "period": "am",
                "clinic_type": "expert",
                "starts_at": start,
                "ends_at": start + dt.timedelta(minutes=5 * slots_per_doctor),
                "release_at": release_at,
                "status": "open",
            }
        )
        slots += [
            {
                "id": ids.new_id(),
                "session_id": sid,
                "starts_at": start + dt.timedelta(minutes=5 * k),
                "ends_at": start + dt.timedelta(minutes=5 * (k + 1)),
                "capacity": 1,
                "booked": 0,
            }
            for k in range(slots_per_doctor)
        ]
    await session.execute(insert(ClinicSession), sessions)
    await session.execute(insert(Slot), slots)
    people, accounts, families, tokens = [], [], [], []
    pw = security.hash_password("bench-not-for-login-1")
    for i in range(patients):
        pid, aid = ids.new_id(), ids.new_id()
        people.append(
            {
                "id": pid,
                "mrn": f"B{i:09d}",
                "name": "压测",
                "name_en": "",
                "sex": "F",
                "birth_date": dt.date(1980, 1, 1),
                "id_number_hash": hashlib.sha256(pid.bytes).hexdigest(),
                "id_number_sealed": None,
                "id_number_last4": None,
                "phone": None,
                "insurance_type": "self_pay",
                "insurance_number": None,
                "registered_campus_id": campus.id,
                "verified_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        accounts.append(
            {
                "id": aid,
                "username": f"bench-{i}",
                "phone": None,
                "password_hash": pw,
                "display_name": "bench",
                "roles": "patient",
                "patient_id": pid,
                "group_wide": False,
                "elderly_mode": False,
                "session_epoch": 0,
                "token_version": 0,
                "is_active": True,
                "created_at": now,
            }
        )
        family = ids.new_id()  # each patient signed in once (the server asks for a live sign-in)
        families.append(
            {
                "id": ids.new_id(),
                "account_id": aid,
                "family_id": family,
                "token_hash": hashlib.sha256(family.bytes).hexdigest(),
                "issued_at": now,
                "expires_at": now + dt.timedelta(days=1),
                "revoked_at": None,
            }
        )
        actor = Actor(account_id=aid, roles=frozenset({"patient"}), patient_id=pid)
        tokens.append(
            security.issue_jwt(
                secret,
                identity.access_claims(actor=actor, version=0, family=family),
                ttl=dt.timedelta(hours=2),
            )
        )
    for chunk in range(0, patients, 1000):
        await session.execute(insert(Patient), people[chunk : chunk + 1000])
        await session.execute(insert(Account), accounts[chunk : chunk + 1000])
        await session.execute(insert(RefreshToken), families[chunk : chunk + 1000])
    return Release(
        session_ids=[str(s["id"]) for s in sessions],
        patient_ids=[str(p["id"]) for p in people],
        account_ids=[str(a["id"]) for a in accounts],
        tokens=tokens,
        slots=len(slots),
        release_at=release_at,
    )


async def reset_release(session: AsyncSession) -> None:
    """Undo a rush (for the anchor run on the same data)."""
    for stmt in (
        "DELETE FROM waitlist_entry",
        "DELETE FROM booking",
        "DELETE FROM idempotency_record",
        "DELETE FROM outbox_event",
        "UPDATE slot SET booked = 0",
    ):
        await session.execute(text(stmt))
