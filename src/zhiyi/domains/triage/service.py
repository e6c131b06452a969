"""Public operations of the triage domain: assess a complaint (stored, and audited when it is
about a patient), the patient's "did this help?", a doctor's reassignment and the review of
emergency answers. Hand-overs to a person at the service desk are handover.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, fields, i18n, ids, outbox
from zhiyi.core.config import get_settings
from zhiyi.core.errors import FieldError, Forbidden, ValidationFailed
from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.org import service as org
from zhiyi.domains.org.schemas import TITLE_LABELS
from zhiyi.domains.patients import service as patients
from zhiyi.domains.scheduling import service as scheduling
from zhiyi.domains.triage import classifier, engine, events, knowledge
from zhiyi.domains.triage import repository as repo
from zhiyi.domains.triage import text as T
from zhiyi.domains.triage.errors import (
    AssessmentNotFound,
)
from zhiyi.domains.triage.models import TriageAssessment
from zhiyi.domains.triage.schemas import (
    AssessmentRead,
    DepartmentSuggestion,
    DoctorSlot,
    Option,
    Question,
    RedFlagRead,
    TriageAsk,
    TriageNote,
)

log = logging.getLogger("zhiyi.triage")
DOCTORS_PER_DEPARTMENT = 3
SEARCH_DAYS = 14
RECENT_DAYS = 14
KIND = "triage"


MESSAGES = {
    "emergency": N_(
        "This may be an emergency. Call 120 now, or go to the nearest emergency department. "
        "Do not wait for a clinic appointment."
    ),
    "departments": N_("These departments fit what you describe. Choose a doctor and a time below."),
    "ask": N_("A few questions will help us find the right department."),
    "handover": N_("We are not sure which department is right. A member of our service desk can help you."),
    "empty": N_("Tell us what is wrong in a few words, or tap where it hurts on the body map."),
    "unclear": N_(
        "We could not understand this. Describe your symptoms in a few words, "
        "or tap where it hurts on the body map."
    ),
}
# explained to the patient (the other rules only leave out departments that would not see them)
RULE_TEXT = {
    "child": N_("Children under 14 are seen in Pediatrics unless their condition needs another specialty."),
    "pregnancy": N_("Pregnancy-related complaints are seen in Obstetrics."),
}
QUESTION_TEXT = {
    "duration": (
        N_("How long have you had this?"),
        (
            ("hours", N_("A few hours")),
            ("days", N_("A few days")),
            ("weeks", N_("Weeks")),
            ("months", N_("Months or longer")),
        ),
    ),
    "fever": (
        N_("Do you have a fever?"),
        (("yes", N_("Yes")), ("no", N_("No")), ("unknown", N_("Not measured"))),
    ),
    "body": (N_("Where is the problem?"), ()),  # options: the body map's regions
}
REVIEW_ROLES = (Role.doctor, Role.nurse)


def check_text(field: str, text: str) -> None:
    """Control characters, lone surrogates and bidirectional controls are refused (core.fields.FreeText's
    rule: the pages pass text here without the API's schema)."""
    if not fields.is_safe_text(text):
        raise ValidationFailed(
            errors=[FieldError(field, "The text contains characters that are not allowed.", "invalid_text")]
        )


def _translator(lang: str) -> i18n.Translator:
    return i18n.translator("zh_CN" if lang == "zh" else "en")


def _age(birth: dt.date, today: dt.date) -> float:
    return (today - birth).days / 365.25


async def _subject(session: AsyncSession, actor: Actor, patient_id: uuid.UUID | None):
    """The patient the complaint is about (read through the patients policy, audited), or None for
    staff trying the tool without a patient."""
    pid = patient_id or actor.patient_id
    if pid is None:
        return None
    patient, _ = await patients.access_patient(session, actor=actor, patient_id=pid, action="read")
    return patient


async def assess(
    session: AsyncSession, *, actor: Actor, ask: TriageAsk, lang: str | None = None
) -> AssessmentRead:
    """Assess a complaint and answer in `lang` ('zh' or 'en': the asker's page; None: the text's language)."""
    kn = knowledge.knowledge()
    if len(ask.text) > T.MAX_CHARS:
        raise ValidationFailed(
            errors=[FieldError("text", "Describe the problem in at most 2,000 characters.", "too_long")]
        )
    check_text("text", ask.text)
    if not ask.text.strip() and not ask.body_part:
        raise ValidationFailed(errors=[FieldError("text", MESSAGES["empty"], "missing")])
    if ask.body_part is not None and ask.body_part not in kn.body_parts:
        raise ValidationFailed(errors=[FieldError("body_part", "No such region of the body map.", "invalid")])
    bad = [k for k in ask.answers if k not in engine.QUESTIONS]
    if bad or any(len(v) > 30 for v in ask.answers.values()):
        raise ValidationFailed(errors=[FieldError("answers", "Answer only the questions asked.", "invalid")])
    patient = await _subject(session, actor, ask.patient_id)
    today = clock.today(get_settings().timezone)
    age = float(ask.age) if ask.age is not None else (_age(patient.birth_date, today) if patient else None)
    sex = ask.sex or (patient.sex if patient else None)
    # CPU work (and, the first time, loading the model): off the event loop
    result = await asyncio.to_thread(
        engine.assess,
        ask.text,
        age=age,
        sex=sex,
        pregnant=ask.pregnant,
        body=ask.body_part,
        answers=ask.answers,
        kn=kn,
    )
    if result.outcome is engine.Outcome.unclear:  # nothing to assess: the person is asked again, nothing kept
        raise ValidationFailed(errors=[FieldError("text", MESSAGES["unclear"], "not_understood")])
    row = TriageAssessment(
        id=ids.new_id(),
        account_id=actor.account_id,
        patient_id=patient.id if patient else None,
        text=ask.text,
        age_years=result.age_years,
        sex=sex,
        pregnant=result.pregnant,
        body_part=ask.body_part,
        answers=dict(ask.answers),
        language=result.language,
        outcome=result.outcome.value,
        red_flags=list(result.red_flags),
        symptoms=list(result.symptom_ids),
        rules=list(result.rules),
        suggestions=[
            {"code": s.code, "confidence": s.confidence, "symptoms": list(s.symptom_ids)}
            for s in result.suggestions
        ],
        created_at=clock.now(),
    )
    await repo.add(session, row)
    await outbox.publish(
        session,
        events.ASSESSMENT_MADE,
        {"assessment_id": str(row.id), "patient_id": str(row.patient_id) if row.patient_id else None},
    )
    if result.outcome is engine.Outcome.emergency:
        # kept for review by clinical staff (GET /triage/emergencies); the log line alerts operations
        log.warning("triage red flag %s on assessment %s", ",".join(result.red_flags), row.id)
    return await _read(session, row, kn, lang)


async def _read(
    session: AsyncSession, row: TriageAssessment, kn: knowledge.Knowledge, lang: str | None = None
) -> AssessmentRead:
    lang = lang if lang in ("zh", "en") else row.language
    t = _translator(lang)
    by_code = await org.departments_by_code(session)
    flags = {f.id: f for f in kn.red_flags}
    departments = []
    if row.outcome != "emergency":
        for s in row.suggestions:
            dept = by_code.get(s["code"])
            departments.append(
                DepartmentSuggestion(
                    code=s["code"],
                    department_id=dept.id if dept else None,
                    name=(dept.name_zh if lang == "zh" else dept.name_en)
                    if dept
                    else kn.catalogue.name(s["code"], lang),
                    confidence=s["confidence"],
                    reasons=[kn.symptoms[x].name(lang) for x in s["symptoms"] if x in kn.symptoms],
                    doctors=await _doctors(session, dept.id, lang) if dept else [],
                )
            )
    questions = []
    if row.outcome == "ask":
        for q in engine.open_questions(answers=row.answers, body=row.body_part, present=row.symptoms):
            text, options = QUESTION_TEXT[q]
            opts = (
                [Option(value=v, label=t.gettext(label)) for v, label in options]
                if options
                else [Option(value=p.id, label=p.name(lang)) for p in kn.body_parts.values()]
            )
            questions.append(Question(id=q, text=t.gettext(text), options=opts))
    return AssessmentRead(
        id=row.id,
        outcome=row.outcome,
        text=row.text,
        patient_id=row.patient_id,
        body_part=row.body_part,
        language=lang,
        message=t.gettext(MESSAGES[row.outcome]),
        red_flags=[RedFlagRead(id=f, name=flags[f].name(lang) if f in flags else f) for f in row.red_flags],
        departments=departments,
        symptoms=[kn.symptoms[x].name(lang) for x in row.symptoms if x in kn.symptoms],
        rules=[t.gettext(RULE_TEXT[r]) for r in row.rules if r in RULE_TEXT],
        questions=questions,
        created_at=row.created_at,
    )


async def _doctors(session: AsyncSession, department_id: uuid.UUID, lang: str) -> list[DoctorSlot]:
    """The doctors of a department with the soonest free places (one line per doctor)."""
    today = clock.today(get_settings().timezone)
    now = clock.now()
    found = await scheduling.find_sessions(
        session,
        department_id=department_id,
        first=today,
        last=today + dt.timedelta(days=SEARCH_DAYS),
        limit=200,
    )
    t = _translator(lang)
    seen: dict[uuid.UUID, DoctorSlot] = {}
    for s in sorted(found, key=lambda s: s.starts_at):
        if (
            s.practitioner_id in seen
            or s.available <= 0
            or not s.released
            or s.ends_at <= now
            or s.status != "open"
        ):
            continue
        seen[s.practitioner_id] = DoctorSlot(
            practitioner_id=s.practitioner_id,
            name=s.practitioner_name_zh if lang == "zh" else s.practitioner_name_en,
            title=t.gettext(TITLE_LABELS.get(s.practitioner_title, s.practitioner_title)),
            session_id=s.id,
            campus_id=s.campus_id,
            starts_at=s.starts_at,
            available=s.available,
        )
        if len(seen) >= DOCTORS_PER_DEPARTMENT:
            break
    return list(seen.values())


async def own_assessment(session: AsyncSession, actor: Actor, assessment_id: uuid.UUID) -> TriageAssessment:
    row = await repo.get_assessment(session, assessment_id)
    if row is None or row.account_id != actor.account_id:
        raise AssessmentNotFound()
    if row.patient_id is not None:
        await patients.access_patient(session, actor=actor, patient_id=row.patient_id, action="read")
    return row


async def get_assessment(
    session: AsyncSession, *, actor: Actor, assessment_id: uuid.UUID, lang: str | None = None
) -> AssessmentRead:
    return await _read(
        session, await own_assessment(session, actor, assessment_id), knowledge.knowledge(), lang
    )


async def give_feedback(
    session: AsyncSession, *, actor: Actor, assessment_id: uuid.UUID, helped: bool
) -> None:
    row = await own_assessment(session, actor, assessment_id)
    row.helped, row.feedback_at = helped, clock.now()


async def _their_doctor_today(session: AsyncSession, actor: Actor, patient_id: uuid.UUID) -> bool:
    """Whether the patient has a booking in one of this doctor's clinics of now (scheduling's
    is_now: today's, or just after midnight; the doctor who receives them, whatever campus the
    patient registered at)."""
    if actor.practitioner_id is None or not actor.has(Role.doctor):
        return False
    return any(
        b.practitioner_id == actor.practitioner_id and b.status != "cancelled"
        for b in await scheduling.bookings_now(session, patient_id=patient_id)
    )


async def _as_receiving_doctor(
    session: AsyncSession, actor: Actor, row: TriageAssessment, action: str
) -> None:
    """The patient's doctor today, or staff the patients policy lets read them; audited either way."""
    if row.patient_id is not None and await _their_doctor_today(session, actor, row.patient_id):
        audit.record(session, actor, action, KIND, row.id, patient_id=row.patient_id)
        return
    if not actor.has(Role.doctor) or row.patient_id is None:
        raise Forbidden()
    await patients.access_patient(session, actor=actor, patient_id=row.patient_id, action="read")


async def reassign(
    session: AsyncSession, *, actor: Actor, assessment_id: uuid.UUID, department_code: str
) -> None:
    """A receiving doctor says which department was right (kept for retraining)."""
    if not actor.has(Role.doctor):
        raise Forbidden()
    row = await repo.get_assessment(session, assessment_id)
    if row is None or row.patient_id is None:
        raise AssessmentNotFound()
    await _as_receiving_doctor(session, actor, row, "triage.reassign")
    if department_code not in (await org.departments_by_code(session)):
        raise ValidationFailed(errors=[FieldError("department_code", "No such department.", "invalid")])
    row.reassigned_code, row.reassigned_by_account_id, row.reassigned_at = (
        department_code,
        actor.account_id,
        clock.now(),
    )
    await outbox.publish(session, events.ASSESSMENT_REASSIGNED, {"assessment_id": str(row.id)})


async def note_for_doctor(
    session: AsyncSession, *, actor: Actor, patient_id: uuid.UUID, lang: str
) -> TriageNote | None:
    """The patient's latest assessment of the last two weeks, for their doctor today (the read is
    audited); None when there is none or the actor is not that doctor."""
    if not await _their_doctor_today(session, actor, patient_id):
        return None
    rows = await repo.latest_for_patient(
        session, patient_id=patient_id, since=clock.now() - dt.timedelta(days=RECENT_DAYS)
    )
    if not rows:
        return None
    r, cat = rows[0], knowledge.knowledge().catalogue
    audit.record(session, actor, "triage.read", KIND, r.id, patient_id=patient_id)
    return TriageNote(
        id=r.id,
        text=r.text,
        outcome=r.outcome,
        created_at=r.created_at,
        suggestions=[cat.name(s["code"], lang) for s in r.suggestions if s["code"] in cat.names],
        reassigned_code=r.reassigned_code,
        reassigned_name=cat.name(r.reassigned_code, lang) if r.reassigned_code in cat.names else None,
    )


def department_choices(lang: str) -> list[tuple[str, str]]:
    """(code, name) of the catalogue, for choosing the right department."""
    cat = knowledge.knowledge().catalogue
    return [(c, cat.name(c, lang)) for c in cat.parent]


async def emergencies(session: AsyncSession, *, actor: Actor) -> list[TriageAssessment]:
    """Emergency answers nobody has reviewed yet (clinical staff; each is audited as a read)."""
    if not any(actor.has(r) for r in REVIEW_ROLES):
        raise Forbidden()
    rows = await on_campuses(session, actor, await repo.emergencies_to_review(session))
    for r in rows:
        audit.record(session, actor, "triage.review.read", KIND, r.id, patient_id=r.patient_id)
    return rows


async def emergency_contacts(
    session: AsyncSession, rows: list[TriageAssessment]
) -> dict[uuid.UUID, tuple[str, str | None]]:
    """Whom to call about each emergency answer: the patient's name and phone (the rows' reads are
    audited by `emergencies`, which found them)."""
    people = await patients.patients_by_ids(session, ids={r.patient_id for r in rows if r.patient_id})
    return {pid: (p.name, p.phone or p.emergency_contact_phone) for pid, p in people.items()}


async def campus_of(session: AsyncSession, patient_id: uuid.UUID | None) -> uuid.UUID | None:
    if patient_id is None:
        return None
    found = await patients.patients_by_ids(session, ids={patient_id})
    return found[patient_id].registered_campus_id if patient_id in found else None


async def on_campuses(session: AsyncSession, actor: Actor, rows: list) -> list:
    """The rows about patients registered at the actor's campuses (every row for group-wide staff);
    a row about no patient (staff trying the tool) is everyone's."""
    if actor.group_wide:
        return rows
    people = await patients.patients_by_ids(session, ids={r.patient_id for r in rows if r.patient_id})
    return [
        r
        for r in rows
        if r.patient_id is None
        or (r.patient_id in people and people[r.patient_id].registered_campus_id in actor.campus_ids)
    ]


async def mark_reviewed(session: AsyncSession, *, actor: Actor, assessment_id: uuid.UUID) -> None:
    if not any(actor.has(r) for r in REVIEW_ROLES):
        raise Forbidden()
    row = await repo.get_assessment(session, assessment_id)
    if row is None or not await on_campuses(session, actor, [row]):
        raise AssessmentNotFound()
    if not await repo.mark_reviewed(session, assessment_id, by=actor.account_id, at=clock.now()):
        raise AssessmentNotFound()
    await outbox.publish(session, events.ASSESSMENT_REVIEWED, {"assessment_id": str(assessment_id)})


async def training_outcomes(session: AsyncSession) -> list[classifier.Example]:
    """What retraining learns from: the department a doctor reassigned, else the first suggestion
    of an assessment the patient said helped."""
    out = []
    for r in await repo.outcomes(session):
        label = r.reassigned_code or (r.suggestions[0]["code"] if r.suggestions else None)
        if label and r.outcome != "emergency":
            out.append(
                classifier.Example(
                    text=r.text,
                    department=label,
                    age=r.age_years,
                    sex=r.sex,
                    pregnant=r.pregnant,
                    body=r.body_part,
                )
            )
    return out
