"""Public operations of the pre-consultation domain (预问诊): the questionnaire of a department or
a booking, saving and submitting the patient's answers, and the pre-visit summary the doctor sees.

A patient (or a family member acting for them) fills the form on the phone after booking, or
after triage for a department. Answers are stored as a FHIR QuestionnaireResponse with a summary
derived from it. The doctor of the clinic session sees the latest submitted form of each patient
in the queue for the session's department (or linked to the booking) from the last 14 days.
Every read of a form is decided by policy.py and audited. Services never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, ids, outbox
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.core.i18n import translator
from zhiyi.core.policy import Actor, Resource
from zhiyi.domains.org import service as org
from zhiyi.domains.org.schemas import DepartmentNode
from zhiyi.domains.patients import service as patients
from zhiyi.domains.preconsult import events, responses
from zhiyi.domains.preconsult import repository as repo
from zhiyi.domains.preconsult.enablewhen import Answers, Coding, Value
from zhiyi.domains.preconsult.errors import (
    BookingNotActive,
    BookingNotFound,
    ResponseNotFound,
    UnknownDepartment,
)
from zhiyi.domains.preconsult.forms import Form, catalogue
from zhiyi.domains.preconsult.models import PreconsultResponse, ResponseStatus
from zhiyi.domains.preconsult.policy import FILL, KIND, READ
from zhiyi.domains.preconsult.schemas import ResponseRead, SummaryRead
from zhiyi.domains.preconsult.summary import localize, summarize
from zhiyi.domains.scheduling import service as scheduling
from zhiyi.domains.scheduling.schemas import BookingRead

WINDOW_DAYS = 14  # how far back the doctor's page looks for a submitted form
GENDER = "http://hl7.org/fhir/administrative-gender"
SEXES = {"M": "male", "F": "female"}


@dataclass
class Target:
    """Whose form, for which department (and booking), on which questionnaire."""

    patient_id: uuid.UUID
    department_code: str
    form: Form
    booking: BookingRead | None = None
    on_behalf: bool = False

    @property
    def draft_key(self) -> str:
        return f"{self.patient_id}:{self.department_code}:{self.booking.id if self.booking else '-'}"


@dataclass
class FormState:
    """What the questionnaire page shows: the form, the answers so far (hidden items filled in)."""

    target: Target
    answers: dict[str, list[Value]]
    draft: PreconsultResponse | None


# --- departments -------------------------------------------------------------------------------


class Departments:
    """The department catalogue by code: parents (a group's questionnaire serves its subspecialties)
    and lineage (what counts as the same department on the doctor's page)."""

    def __init__(self, tree: list[DepartmentNode]):
        self.parent: dict[str, str | None] = {}
        self.code_of: dict[uuid.UUID, str] = {}

        def visit(nodes: list[DepartmentNode], parent: str | None) -> None:
            for n in nodes:
                self.parent[n.code], self.code_of[n.id] = parent, n.code
                visit(n.children, n.code)

        visit(tree, None)

    def chain(self, code: str) -> list[str]:
        """The department, then its parent groups."""
        if code not in self.parent:
            raise UnknownDepartment()
        out = [code]
        while self.parent[out[-1]] is not None:
            out.append(self.parent[out[-1]])
        return out

    def lineage(self, code: str) -> set[str]:
        """The department, its parent groups and its subspecialties."""
        return set(self.chain(code)) | {c for c in self.parent if code in self.chain(c)}


async def departments(session: AsyncSession) -> Departments:
    return Departments(await org.department_tree(session))


async def form_for_department(session: AsyncSession, *, code: str) -> Form:
    """The questionnaire a department uses (its own, its group's, or the general one)."""
    return catalogue().for_departments((await departments(session)).chain(code))


# --- whose form ------------------------------------------------------------------------------------


async def _guard(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    patient_id: uuid.UUID,
    resource_id: object,
    practitioner_id: uuid.UUID | None = None,
):
    resource = Resource(KIND, resource_id, {"patient_id": patient_id, "practitioner_id": practitioner_id})
    return await audit.guard(session, actor, action, resource, patient_id=patient_id)


async def target_for_booking(session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID) -> Target:
    """The form of a booking, for its patient or their family (the booking must still be coming)."""
    booking = await scheduling.booking_record(session, booking_id=booking_id)
    if booking is None:
        audit.missing(session, actor, FILL, "booking", booking_id)
        raise BookingNotFound()
    decision = await _guard(session, actor, FILL, patient_id=booking.patient_id, resource_id=booking.id)
    if booking.status not in scheduling.ACTIVE_BOOKING or booking.ends_at <= clock.now():
        raise BookingNotActive()
    deps = await departments(session)
    code = deps.code_of[booking.department_id]
    return Target(
        booking.patient_id,
        code,
        catalogue().for_departments(deps.chain(code)),
        booking,
        on_behalf=decision.on_behalf_of is not None,
    )


async def target_for_department(
    session: AsyncSession, *, actor: Actor, code: str, patient_id: uuid.UUID | None = None
) -> Target:
    """The form of a department (after triage), for the caller or a family member they act for."""
    form = await form_for_department(session, code=code)
    patient_id = patient_id or actor.patient_id
    if patient_id is None:
        raise Forbidden()
    decision = await _guard(session, actor, FILL, patient_id=patient_id, resource_id=code)
    return Target(patient_id, code, form, None, on_behalf=decision.on_behalf_of is not None)


async def _prefill(session: AsyncSession, patient_id: uuid.UUID) -> dict[str, list[Value]]:
    """The hidden items' values, from the patient's record (never from the browser)."""
    p = await patients.get_patient(session, patient_id=patient_id)
    out: dict[str, list[Value]] = {
        "patient-age": [patients.age_on(p.birth_date, clock.today(get_settings().timezone))]
    }
    if p.sex in SEXES:
        out["patient-sex"] = [Coding(GENDER, SEXES[p.sex])]
    return out


def _with_prefill(form: Form, answers: Answers, prefill: dict[str, list[Value]]) -> dict[str, list[Value]]:
    out = {k: list(v) for k, v in answers.items()}
    for item in form.items.values():
        if item.prefill and prefill.get(item.prefill):
            out[item.link_id] = list(prefill[item.prefill])
    return out


async def open_form(session: AsyncSession, *, target: Target) -> FormState:
    """The form as the patient left it (a saved draft on the same questionnaire), or empty."""
    draft = await repo.draft(session, target.draft_key)
    answers: Answers = {}
    if draft is not None and draft.questionnaire_url == target.form.url:
        answers = responses.answers_of_stored(target.form, draft.resource)
    return FormState(
        target, _with_prefill(target.form, answers, await _prefill(session, target.patient_id)), draft
    )


def enabled_items(state: FormState) -> set[str]:
    return state.target.form.logic.enabled(state.answers)


# --- saving and submitting ----------------------------------------------------------------------------


async def check_answers(session: AsyncSession, *, target: Target, answers: Answers, complete: bool) -> None:
    """What save_answers would refuse (AnswersInvalid), without saving."""
    responses.clean(target.form, answers, await _prefill(session, target.patient_id), complete=complete)


async def save_answers(
    session: AsyncSession, *, actor: Actor, target: Target, answers: Answers, complete: bool
) -> PreconsultResponse:
    """Save (in progress) or submit (completed) the answers of a form the caller may fill (the
    target was decided). Answers to disabled items are dropped; a submitted form must answer every
    enabled required question; on any problem nothing is stored."""
    form = target.form
    kept = responses.clean(form, answers, await _prefill(session, target.patient_id), complete=complete)
    now = clock.now()
    row = await repo.draft(session, target.draft_key)
    if row is None:
        row = PreconsultResponse(
            id=ids.new_id(),
            patient_id=target.patient_id,
            department_code=target.department_code,
            booking_id=target.booking.id if target.booking else None,
            created_at=now,
        )
    status = ResponseStatus.completed if complete else ResponseStatus.in_progress
    row.resource = responses.build_resource(
        form,
        kept,
        response_id=str(row.id),
        status=status.value,
        patient_id=str(target.patient_id),
        author_patient_id=str(actor.patient_id or target.patient_id),
        authored=now,
    )
    row.summary = summarize(form, kept)
    row.red_flags = len(row.summary["red_flags"])
    row.questionnaire_url, row.questionnaire_version = form.url, form.version
    row.status, row.updated_at, row.filled_by_account_id = status.value, now, actor.account_id
    row.draft_key = None if complete else target.draft_key
    row.completed_at = now if complete else None
    if row in session:
        await session.flush()
    else:
        await repo.add(session, row)
    audit.record(
        session,
        actor,
        "preconsult.submit" if complete else "preconsult.save",
        KIND,
        row.id,
        patient_id=target.patient_id,
        on_behalf_of=target.patient_id if target.on_behalf else None,
    )
    if complete:
        await outbox.publish(
            session,
            events.RESPONSE_SUBMITTED,
            {
                "response_id": str(row.id),
                "patient_id": str(row.patient_id),
                "department_code": row.department_code,
                "booking_id": str(row.booking_id) if row.booking_id else None,
                "red_flags": row.red_flags,
            },
        )
    return row


async def save_resource(
    session: AsyncSession, *, actor: Actor, target: Target, resource: object
) -> ResponseRead:
    """The API's save or submit: a QuestionnaireResponse whose status says which."""
    status = responses.status_of(resource)
    answers = responses.answers_from_resource(target.form, resource)  # type: ignore[arg-type]
    row = await save_answers(
        session, actor=actor, target=target, answers=answers, complete=status == "completed"
    )
    return response_read(row)


def response_read(row: PreconsultResponse) -> ResponseRead:
    return ResponseRead(
        id=row.id,
        patient_id=row.patient_id,
        booking_id=row.booking_id,
        department_code=row.department_code,
        questionnaire=f"{row.questionnaire_url}|{row.questionnaire_version}",
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        resource=row.resource,
    )


# --- reading -----------------------------------------------------------------------------------------------


def _doctor_of(booking: BookingRead) -> uuid.UUID | None:
    """The doctor who may read the forms of a booking: none once it was cancelled (the patient is
    no longer booked into that clinic)."""
    return booking.practitioner_id if booking.status != "cancelled" else None


async def _practitioner_of(
    session: AsyncSession, booking_id: uuid.UUID | None, patient_id: uuid.UUID
) -> uuid.UUID | None:
    """The doctor of the clinic session a form's booking is in (who may read it besides the family)."""
    if booking_id is None:
        return None
    booking = await scheduling.booking_record(session, booking_id=booking_id)
    return _doctor_of(booking) if booking is not None and booking.patient_id == patient_id else None


async def get_response(session: AsyncSession, *, actor: Actor, response_id: uuid.UUID) -> PreconsultResponse:
    """A stored form, for its patient, their family, or the doctor of its booking's clinic."""
    row = await repo.get(session, response_id)
    if row is None:
        audit.missing(session, actor, READ, KIND, response_id)
        raise ResponseNotFound()
    await _guard(
        session,
        actor,
        READ,
        patient_id=row.patient_id,
        resource_id=row.id,
        practitioner_id=await _practitioner_of(session, row.booking_id, row.patient_id),
    )
    return row


async def latest_for_booking(
    session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID
) -> PreconsultResponse:
    """The booking's latest form, in progress or submitted (the patient's side)."""
    booking = await scheduling.booking_record(session, booking_id=booking_id)
    if booking is None:
        audit.missing(session, actor, READ, "booking", booking_id)
        raise BookingNotFound()
    row = await repo.latest_for_booking(session, booking.id)
    await _guard(
        session,
        actor,
        READ,
        patient_id=booking.patient_id,
        resource_id=row.id if row else booking.id,
        practitioner_id=_doctor_of(booking),
    )
    if row is None:
        raise ResponseNotFound()
    return row


def summary_read(row: PreconsultResponse, locale: str) -> SummaryRead:
    t, s = translator(locale), row.summary["sections"]
    return SummaryRead(
        response_id=row.id,
        patient_id=row.patient_id,
        booking_id=row.booking_id,
        department_code=row.department_code,
        questionnaire=f"{row.questionnaire_url}|{row.questionnaire_version}",
        status=row.status,
        completed_at=row.completed_at,
        chief_complaint=localize(s["chief-complaint"], t),
        present_illness=localize(s["present-illness"], t),
        past_history=localize(s["past-history"], t),
        medications=localize(s["medications"], t),
        allergies=localize(s["allergies"], t),
        red_flags=localize(row.summary["red_flags"], t),
    )


async def _visit_candidates(
    session: AsyncSession,
    *,
    department_id: uuid.UUID,
    bookings: list[tuple[uuid.UUID, uuid.UUID]],
    until: dt.datetime | None = None,
) -> dict[uuid.UUID, PreconsultResponse]:
    """booking -> the latest submitted form of its patient from the last 14 days, for the clinic's
    department lineage or linked to that booking; none submitted after `until` (the clinic's end:
    a later form is for another visit, not for this one's doctor)."""
    deps = await departments(session)
    lineage = deps.lineage(deps.code_of[department_id])
    since = clock.now() - dt.timedelta(days=WINDOW_DAYS)
    rows = await repo.completed_for(
        session,
        patient_ids={p for _, p in bookings},
        department_codes=lineage,
        booking_ids={b for b, _ in bookings},
        since=since,
    )
    found = {}
    for booking_id, patient_id in bookings:
        row = next(
            (
                r
                for r in rows
                if r.patient_id == patient_id
                and (until is None or r.completed_at is None or r.completed_at <= until)
                and (r.booking_id == booking_id or r.department_code in lineage)
            ),
            None,
        )
        if row is not None:
            found[booking_id] = row
    return found


async def summary_for_booking(
    session: AsyncSession, *, actor: Actor, booking_id: uuid.UUID, locale: str
) -> SummaryRead:
    """The pre-visit summary of a booking: for the doctor of its clinic session, the patient, their family."""
    booking = await scheduling.booking_record(session, booking_id=booking_id)
    if booking is None:
        audit.missing(session, actor, READ, "booking", booking_id)
        raise BookingNotFound()
    found = await _visit_candidates(
        session,
        department_id=booking.department_id,
        bookings=[(booking.id, booking.patient_id)],
        until=booking.ends_at,
    )
    row = found.get(booking.id)
    await _guard(
        session,
        actor,
        READ,
        patient_id=booking.patient_id,
        resource_id=row.id if row else booking.id,
        practitioner_id=_doctor_of(booking),
    )
    if row is None:
        raise ResponseNotFound()
    return summary_read(row, locale)


async def pre_visit_summaries(
    session: AsyncSession,
    *,
    actor: Actor,
    session_id: uuid.UUID,
    bookings: list[tuple[uuid.UUID, uuid.UUID]],
    locale: str,
) -> dict[uuid.UUID, SummaryRead]:
    """booking -> summary, for the doctor's queue page of a clinic session: `bookings` are the
    (booking, patient) pairs it shows. Only the session's own doctor sees them (others get nothing);
    each summary shown is an audited read."""
    cs = await scheduling.get_session(session, session_id=session_id)
    if actor.practitioner_id is None or actor.practitioner_id != cs.practitioner_id or not bookings:
        return {}
    out = {}
    for booking_id, row in (
        await _visit_candidates(session, department_id=cs.department_id, bookings=bookings, until=cs.ends_at)
    ).items():
        booking = await scheduling.booking_record(session, booking_id=booking_id)
        if booking is None or booking.session_id != cs.id or booking.patient_id != row.patient_id:
            continue  # the page named a booking of another clinic: show nothing for it
        await _guard(
            session,
            actor,
            READ,
            patient_id=row.patient_id,
            resource_id=row.id,
            practitioner_id=cs.practitioner_id,
        )
        out[booking_id] = summary_read(row, locale)
    return out
