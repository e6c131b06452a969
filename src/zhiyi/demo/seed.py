"""Deterministic demo data for the fictional Zhiyi Demo Hospital Group.

`await seed(session, patients=2000, seed=42)` fills an empty database with campuses,
buildings, floors, the department catalogue, clinics and consulting rooms, about 120
practitioners, N patients (with a small demo family) and the demo logins of DEMO_LOGINS.

Determinism: every random choice comes from `random.Random` instances derived from
`seed` (one stream per part, so that e.g. more patients never change the practitioners);
nothing reads the global generator or the time. Ages are drawn as "born N calendar years
before this year" with the day of birth drawn within that year, so the same seed gives the
same names, ID numbers, birth dates and MRNs all through a calendar year (only babies born
this year depend on today's date). Database ids, Fernet-sealed ID numbers and timestamps
are not deterministic; id_number_hash is (for a given secret key).

Like every service, `seed` never commits: the caller owns the transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, ids, security
from zhiyi.core.policy import Role
from zhiyi.demo import catalog as cat
from zhiyi.demo.clinic_now import seed_clinic_now
from zhiyi.demo.organisation import Org, insert_batches, seed_org
from zhiyi.demo.people import Names, People, between, pick, stream
from zhiyi.demo.timetable import seed_timetable
from zhiyi.domains import registry
from zhiyi.domains.identity.service import create_account
from zhiyi.domains.org.models import Campus, Practitioner, PractitionerCampus, Title
from zhiyi.domains.patients.models import PatientProxy, ProxyStatus, Relationship
from zhiyi.domains.patients.service import register_patient

Progress = Callable[[str, int, int | None], None]
T = TypeVar("T")

# Step names passed to `progress`, in order. Each step is announced once with advance=0
# and its total (None when unknown), then advanced until it reaches the total.
STEP_ORG = "Campuses, departments and rooms"
STEP_STAFF = "Practitioners"
STEP_PATIENTS = "Patients"
STEP_ACCOUNTS = "Demo accounts and family links"
STEP_SESSIONS = "Clinic timetable and sessions"
STEP_FHIR = "The FHIR repository"
STEPS = (STEP_ORG, STEP_STAFF, STEP_PATIENTS, STEP_ACCOUNTS, STEP_SESSIONS, STEP_FHIR)

# (role, username, password): printed by the CLI after seeding.
DEMO_LOGINS: list[tuple[str, str, str]] = [
    (Role.patient.value, "demo-patient", "patient-demo-2468"),
    (Role.patient.value, "demo-patient2", "patient-demo-2468"),
    (Role.doctor.value, "demo-doctor", "doctor-demo-2468"),
    (Role.nurse.value, "demo-nurse", "nurse-demo-2468"),
    (Role.pharmacist.value, "demo-pharmacist", "pharma-demo-2468"),
    (Role.registrar.value, "demo-registrar", "registrar-demo-2468"),
    (Role.admin.value, "demo-admin", "admin-demo-2468"),
    (Role.executive.value, "demo-exec", "exec-demo-2468"),
]

MIN_PATIENTS = 4  # the demo patient, their parent and child, and the second demo patient
DEMO_DOCTOR_DEPARTMENT = "IM.CARD"  # demo-doctor: a Cardiology attending at MAIN
DEMO_NURSE_DEPARTMENT = "IM.CARD"
PATIENT_PROGRESS_EVERY = 50


@dataclass(frozen=True)
class SeedResult:
    campuses: int
    buildings: int
    floors: int
    departments: int
    clinics: int  # DepartmentCampus rows
    rooms: int
    practitioners: int
    patients: int
    accounts: int
    family_links: int
    days: int  # days of clinic sessions generated from the timetable, today first
    clinic_templates: int
    clinic_sessions: int
    logins: list[tuple[str, str, str]]


# --- practitioners ------------------------------------------------------------------------------


@dataclass
class _Staff:
    count: int
    demo_doctor: Practitioner
    demo_nurse: Practitioner
    demo_pharmacist: Practitioner


_TITLE_AGES = {
    Title.resident: (25, 32),
    Title.attending: (30, 45),
    Title.associate_chief: (38, 55),
    Title.chief: (45, 62),
}


async def _seed_practitioners(session: AsyncSession, rng: random.Random, org: Org, today: dt.date) -> _Staff:
    names = Names(rng)
    used_names: set[str] = set()
    staff: list[Practitioner] = []
    links: list[PractitionerCampus] = []

    def person(sex: str, title: str) -> tuple[str, str]:
        lo, hi = _TITLE_AGES[Title(title)]
        year = today.year - between(rng, lo, hi)
        for _ in range(50):
            zh, en = names.person(sex, year)
            if zh not in used_names:
                break
        used_names.add(zh)
        return zh, en

    def add(
        prefix: str,
        n: int,
        *,
        dept: str,
        profession: str,
        title: str,
        sex: str,
        specialties: list[str],
        campuses: list[str],
    ) -> Practitioner:
        zh, en = person(sex, title)
        p = Practitioner(
            id=ids.new_id(),
            code=f"{prefix}{n:04d}",
            name_zh=zh,
            name_en=en,
            sex=sex,
            title=title,
            department_id=org.department_ids[dept],
            specialties=specialties,
            profession=profession,
            active=True,
        )
        staff.append(p)
        links.extend(PractitionerCampus(practitioner_id=p.id, campus_id=org.campus_ids[c]) for c in campuses)
        return p

    # doctors: at least one per clinic (department x campus), the rest by department size
    leaves = cat.leaf_departments()
    per_dept = {d.code: len(d.campuses) for d in leaves}
    extra = max(0, cat.STAFF.doctors - sum(per_dept.values()))
    for d in rng.choices(leaves, weights=[d.weight for d in leaves], k=extra):
        per_dept[d.code] += 1
    demo_doctor = None
    n = 0
    for d in leaves:
        for i in range(per_dept[d.code]):
            n += 1
            demo = d.code == DEMO_DOCTOR_DEPARTMENT and i == 0
            title = Title.attending.value if demo else pick(rng, cat.DOCTOR_TITLES)
            if i < len(d.campuses):
                primary = d.campuses[i]
            else:
                primary = cat.MAIN_CAMPUS if rng.random() < 0.6 else rng.choice(d.campuses)
            campuses = [primary]
            senior = title in (Title.chief, Title.associate_chief)
            if not demo and len(d.campuses) > 1 and rng.random() < (0.45 if senior else 0.15):
                campuses.append(rng.choice([c for c in d.campuses if c != primary]))
            k = min(len(d.specialties), 1 + (rng.random() < 0.6) + (senior and rng.random() < 0.5))
            sex = "F" if rng.random() < d.female_share else "M"
            p = add(
                "DR",
                n,
                dept=d.code,
                profession="doctor",
                title=title,
                sex=sex,
                specialties=rng.sample(d.specialties, k),
                campuses=campuses,
            )
            if demo:
                demo_doctor = p

    # nurses: the first in the demo doctor's clinic at MAIN
    by_code = {d.code: d for d in leaves}
    demo_nurse = None
    for i in range(cat.STAFF.nurses):
        if i == 0:
            d, campuses = by_code[DEMO_NURSE_DEPARTMENT], [cat.MAIN_CAMPUS]
        else:
            d = rng.choices(leaves, weights=[d.weight for d in leaves])[0]
            campuses = [rng.choice(d.campuses)]
            if len(d.campuses) > 1 and rng.random() < 0.1:
                campuses.append(rng.choice([c for c in d.campuses if c != campuses[0]]))
        sex = "F" if rng.random() < 0.93 else "M"
        p = add(
            "RN",
            i + 1,
            dept=d.code,
            profession="nurse",
            title=pick(rng, cat.STAFF_TITLES),
            sex=sex,
            specialties=rng.sample(cat.NURSE_SPECIALTIES, between(rng, 1, 2)),
            campuses=campuses,
        )
        demo_nurse = demo_nurse or p

    # pharmacists: one at each campus first, some covering two
    codes = [c.code for c in cat.CAMPUSES]
    demo_pharmacist = None
    for i in range(cat.STAFF.pharmacists):
        campuses = [codes[i % len(codes)]]
        if i > 0 and rng.random() < 0.3:
            campuses.append(rng.choice([c for c in codes if c != campuses[0]]))
        sex = "F" if rng.random() < 0.7 else "M"
        p = add(
            "RX",
            i + 1,
            dept=cat.PHARMACY,
            profession="pharmacist",
            title=pick(rng, cat.STAFF_TITLES),
            sex=sex,
            specialties=rng.sample(cat.PHARMACIST_SPECIALTIES, between(rng, 1, 2)),
            campuses=campuses,
        )
        demo_pharmacist = demo_pharmacist or p

    await insert_batches(session, staff, links)
    assert demo_doctor and demo_nurse and demo_pharmacist
    return _Staff(len(staff), demo_doctor, demo_nurse, demo_pharmacist)


async def is_seeded(session: AsyncSession) -> bool:
    return await session.scalar(select(Campus.id).limit(1)) is not None


# --- the whole thing ----------------------------------------------------------------------------


async def seed(
    session: AsyncSession,
    *,
    patients: int = 2000,
    seed: int = 42,
    progress: Progress | None = None,
    days: int = 14,
    fhir: bool = False,
) -> SeedResult:
    """Fill an empty database with the demo group. Refuses if a campus already exists. With `fhir`, the
    group's rows are then written into the FHIR repository too (the commands do; a write per slot, patient
    and session, so tests that only need the rows leave it out).

    `progress(step_name, advance, total)` is called with advance=0 and the step's total when
    a step starts, then with the amounts done. The caller commits.
    """
    if patients < MIN_PATIENTS:
        raise ValueError(f"the demo needs at least {MIN_PATIENTS} patients")
    if await is_seeded(session):
        raise RuntimeError("database already seeded")

    def report(step: str, advance: int, total: int | None) -> None:
        if progress is not None:
            progress(step, advance, total)

    today = clock.today()
    n_org = len(cat.CAMPUSES) + len(cat.ALL_DEPARTMENTS)
    report(STEP_ORG, 0, n_org)
    # start hashing the demo passwords now (Argon2 is slow; each distinct one once, off the loop)
    passwords = sorted({pw for _, _, pw in DEMO_LOGINS})
    hashing = asyncio.gather(*(asyncio.to_thread(security.hash_password, pw) for pw in passwords))
    try:
        org = await seed_org(session)
        report(STEP_ORG, n_org, n_org)

        report(STEP_STAFF, 0, None)
        staff = await _seed_practitioners(session, stream(seed, "practitioners"), org, today)
        report(STEP_STAFF, staff.count, staff.count)

        report(STEP_PATIENTS, 0, patients)
        people = People(stream(seed, "patients"), today)
        family = people.demo_family()
        created = []
        pending = 0
        for i in range(patients):
            person = family[i] if i < len(family) else people.make()
            created.append(await register_patient(session, **person.register_kwargs(org.campus_ids)))
            pending += 1
            if pending == PATIENT_PROGRESS_EVERY:
                report(STEP_PATIENTS, pending, patients)
                pending = 0
        if pending:
            report(STEP_PATIENTS, pending, patients)
    finally:
        hashes = dict(zip(passwords, await hashing, strict=True))

    # Demo logins. Only these people get accounts.
    total = len(DEMO_LOGINS) + 2
    report(STEP_ACCOUNTS, 0, total)
    me, parent, child, other = created[:4]
    main_id = org.campus_ids[cat.MAIN_CAMPUS]
    registrar_name, _ = Names(stream(seed, "accounts")).person("F", today.year - 36)
    admin_name, _ = Names(stream(seed, "accounts-admin")).person("M", today.year - 42)
    exec_name, _ = Names(stream(seed, "accounts-exec")).person("M", today.year - 55)
    specs = {
        "demo-patient": dict(display_name=me.name, roles={Role.patient}, phone=me.phone, patient_id=me.id),
        "demo-patient2": dict(
            display_name=other.name, roles={Role.patient}, phone=other.phone, patient_id=other.id
        ),
        "demo-doctor": dict(
            display_name=staff.demo_doctor.name_zh,
            roles={Role.doctor},
            practitioner_id=staff.demo_doctor.id,
            campus_ids=[main_id],
        ),
        "demo-nurse": dict(
            display_name=staff.demo_nurse.name_zh,
            roles={Role.nurse},
            practitioner_id=staff.demo_nurse.id,
            campus_ids=[main_id],
        ),
        "demo-pharmacist": dict(
            display_name=staff.demo_pharmacist.name_zh,
            roles={Role.pharmacist},
            practitioner_id=staff.demo_pharmacist.id,
            campus_ids=[main_id],
        ),
        "demo-registrar": dict(display_name=registrar_name, roles={Role.registrar}, campus_ids=[main_id]),
        "demo-admin": dict(display_name=admin_name, roles={Role.admin}, group_wide=True),
        "demo-exec": dict(display_name=exec_name, roles={Role.executive}, group_wide=True),
    }
    accounts = {}
    for _, username, password in DEMO_LOGINS:
        accounts[username] = await create_account(
            session, username=username, password=password, password_hash=hashes[password], **specs[username]
        )
        report(STEP_ACCOUNTS, 1, total)

    # The demo patient acts for an elderly parent (consented by SMS code) and a child
    # (on the guardian's attestation).
    now = clock.now()
    links = [
        PatientProxy(
            proxy_patient_id=me.id,
            dependent_patient_id=dep.id,
            relationship=str(rel),
            status=ProxyStatus.active.value,
            consent_method=method,
            consent_attempts=0,
            requested_at=now,
            requested_by_account_id=accounts["demo-patient"].id,
            consented_at=now,
        )
        for dep, rel, method in (
            (parent, Relationship.parent, "sms_code"),
            (child, Relationship.child, "guardian"),
        )
    ]
    session.add_all(links)
    await session.flush()
    report(STEP_ACCOUNTS, len(links), total)

    # The weekly timetable and `days` days of clinic sessions generated from it (today first).
    report(STEP_SESSIONS, 0, 1)
    templates, sessions = await seed_timetable(session, stream(seed, "timetable"), first=today, days=days)
    # ... and an extra clinic of the demo doctor starting now, with patients waiting (the queue pages)
    await seed_clinic_now(
        session,
        practitioner_id=staff.demo_doctor.id,
        department_id=staff.demo_doctor.department_id,
        campus_id=main_id,
        desk_account_id=accounts["demo-registrar"].id,
        patient_ids=[p.id for p in created[4:]],
    )
    report(STEP_SESSIONS, 1, 1)
    if fhir:
        report(STEP_FHIR, 0, len(registry.FHIR_PROJECTIONS))
        await registry.project_fhir(session, lambda _domain, _changed: report(STEP_FHIR, 1, None))
    return SeedResult(
        **org.counts,
        practitioners=staff.count,
        patients=len(created),
        accounts=len(accounts),
        family_links=len(links),
        days=days,
        clinic_templates=templates,
        clinic_sessions=sessions + 1,
        logins=list(DEMO_LOGINS),
    )
