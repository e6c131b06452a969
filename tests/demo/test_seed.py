"""The demo group: same seed, same data, on both backends; the demo logins work."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from typer.testing import CliRunner

from zhiyi.cli import app
from zhiyi.core import clock
from zhiyi.core.config import Settings
from zhiyi.core.db import Database
from zhiyi.demo import seed as demo
from zhiyi.domains.identity import service as identity
from zhiyi.domains.org.models import Department
from zhiyi.domains.patients.models import Patient
from zhiyi.domains.scheduling.models import ClinicSession, Slot

runner = CliRunner()
TOP_LEVEL = {
    "General Practice",
    "Internal Medicine",
    "Surgery",
    "Pediatrics",
    "Obstetrics and Gynecology",
    "Andrology",
    "Oncology",
    "Dermatology",
    "Ophthalmology",
    "Otorhinolaryngology",
    "Stomatology",
    "Psychiatry",
    "Infectious Diseases",
    "Emergency",
    "Rehabilitation",
    "Traditional Chinese Medicine",
}


async def test_same_seed_gives_same_people(session):
    first = await demo.seed(session, patients=30, seed=5)
    rows = (
        await session.execute(
            select(Patient.mrn, Patient.name, Patient.birth_date, Patient.id_number_hash).order_by(
                Patient.mrn
            )
        )
    ).all()
    await session.rollback()
    again = await demo.seed(session, patients=30, seed=5)
    rows_again = (
        await session.execute(
            select(Patient.mrn, Patient.name, Patient.birth_date, Patient.id_number_hash).order_by(
                Patient.mrn
            )
        )
    ).all()
    assert rows == rows_again and len(rows) == 30
    assert first.practitioners == again.practitioners >= 100
    await session.rollback()
    other = await demo.seed(session, patients=30, seed=6)
    names_other = (await session.scalars(select(Patient.name).order_by(Patient.mrn))).all()
    assert other.patients == 30 and list(names_other) != [r.name for r in rows]


async def test_fourteen_days_of_clinic_sessions(session):
    result = await demo.seed(session, patients=5, seed=1, days=14)
    days = sorted(set((await session.scalars(select(ClinicSession.session_on))).all()))
    assert result.clinic_sessions == len((await session.scalars(select(ClinicSession.id))).all()) > 100
    assert days[0] == clock.today() or (days[0] - clock.today()).days <= 1
    assert (days[-1] - clock.today()).days <= 13
    emergency = await session.scalar(select(Department.id).where(Department.code == "EM"))
    assert (
        await session.scalar(select(ClinicSession.id).where(ClinicSession.department_id == emergency)) is None
    )
    assert await session.scalar(select(Slot.id).limit(1)) is not None


async def test_catalogue_and_logins(session):
    await demo.seed(session, patients=10, seed=1)
    tops = set(
        (
            await session.scalars(
                select(Department.name_en).where(
                    Department.parent_id.is_(None), Department.is_clinical.is_(True)
                )
            )
        ).all()
    )
    assert tops == TOP_LEVEL
    for role, username, password in demo.DEMO_LOGINS:
        account = await identity.authenticate(session, login=username, password=password, client_addr="test")
        assert role in account.role_set
        identity.check_password_strength(password)  # demo passwords obey the rule people must follow


async def test_seeding_twice_is_refused(session):
    await demo.seed(session, patients=5, seed=1)
    try:
        await demo.seed(session, patients=5, seed=1)
    except RuntimeError as exc:
        assert "already seeded" in str(exc)
    else:
        raise AssertionError("second seed was accepted")


def test_cli_seed_commits_a_demo_group(fresh_db_url):
    r = runner.invoke(app, ["seed", "--db", fresh_db_url, "--patients", "20", "--seed", "3"])
    assert r.exit_code == 0, r.output
    assert "demo-patient" in r.output

    async def count() -> int:
        db = Database(Settings(database_url=fresh_db_url))
        try:
            async with db.sessionmaker() as s:
                return len((await s.scalars(select(Patient.id))).all())
        finally:
            await db.dispose()

    assert asyncio.run(count()) == 20


async def test_no_two_clinics_of_one_doctor_or_one_room_overlap(session):
    """Issue 16, item 10: the demo doctor's "my clinics today" showed the clinic running now over the
    timetabled one, in the same room. Seeded on a weekday morning, when the timetable has clinics."""
    zone = ZoneInfo("Asia/Shanghai")
    monday = dt.date(2026, 12, 7)
    clock.freeze(dt.datetime.combine(monday, dt.time(9, 0), tzinfo=zone))
    try:
        await demo.seed(session, patients=5, seed=1, days=3)
        sessions = (await session.scalars(select(ClinicSession).where(ClinicSession.status == "open"))).all()
    finally:
        clock.freeze(None)
    for key in ("practitioner_id", "room_id"):
        by: dict = {}
        for s in sessions:
            if getattr(s, key) is not None:
                by.setdefault(getattr(s, key), []).append(s)
        for group in by.values():
            group.sort(key=lambda s: s.starts_at)
            clashes = [
                (a.id, b.id) for a, b in zip(group, group[1:], strict=False) if b.starts_at < a.ends_at
            ]
            assert not clashes, (key, clashes)
