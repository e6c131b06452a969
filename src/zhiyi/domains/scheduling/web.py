"""Pages of the scheduling domain: find a doctor, choose a time, confirm (idempotent, like the API),
and the "Book again" shortcuts of the patient's home pages. My appointments with cancelling and
waiting lists: appointments_web.py (the forms of waiting lists: waitlist_web.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock, idempotency
from zhiyi.core.config import get_settings
from zhiyi.core.errors import DomainError, Forbidden
from zhiyi.core.i18n import N_, Translator, translator
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.org import service as org
from zhiyi.domains.org.schemas import TITLE_LABELS, DepartmentNode
from zhiyi.domains.patients import service as patients
from zhiyi.domains.patients.schemas import FamilyMember as Person
from zhiyi.domains.scheduling import clinic_day, draw, service, waitlist
from zhiyi.domains.scheduling.errors import BookingNotFound, SessionNotFound, SlotNotFound
from zhiyi.domains.scheduling.models import LIVE_WAITLIST
from zhiyi.domains.scheduling.schemas import BookingCreate, SessionRead
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.forms import parse_uuid
from zhiyi.web.shortcuts import Shortcut
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)

TITLES = {str(k): v for k, v in TITLE_LABELS.items()}
CLINIC_TYPES = {
    "general": N_("General clinic"),
    "specialist": N_("Specialist clinic"),
    "expert": N_("Expert clinic"),
    "special_needs": N_("Special-needs clinic"),
}
PERIODS = {"am": N_("Morning"), "pm": N_("Afternoon"), "evening": N_("Evening"), "extra": N_("Extra clinic")}
STATUSES = {
    "booked": N_("Booked"),
    "checked_in": N_("Checked in"),
    "completed": N_("Seen"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Missed"),
}


DESK, DESK_PATIENT = "desk", "zhiyi.desk_patient"


class View:
    """Names and local times for the templates, in the reader's language and the hospital's time zone."""

    def __init__(
        self, t: Translator, tree: list[DepartmentNode], campuses: list, doctors: dict | None = None
    ):
        self.t, self.zone = t, ZoneInfo(get_settings().timezone)
        self.tree, self.departments, self.campuses = tree, {d.id: d for d in _flatten(tree)}, campuses
        self._campuses = {c.id: c for c in campuses}
        self.doctors = doctors or {}

    def name(self, obj) -> str:
        return obj.name_zh if self.t.locale == "zh_CN" else obj.name_en

    def department(self, department_id: uuid.UUID) -> str:
        d = self.departments.get(department_id)
        return self.name(d) if d else ""

    def campus(self, campus_id: uuid.UUID) -> str:
        c = self._campuses.get(campus_id)
        return self.name(c) if c else ""

    def doctor(self, s: SessionRead) -> str:
        return s.practitioner_name_zh if self.t.locale == "zh_CN" else s.practitioner_name_en

    def doctor_of(self, practitioner_id: uuid.UUID) -> tuple[str, str]:
        p = self.doctors.get(practitioner_id)
        return (self.name(p), self.title(p.title)) if p else ("", "")

    def title(self, code: str) -> str:
        return self.t.gettext(TITLES[code]) if code in TITLES else code

    def clinic(self, code: str) -> str:
        return self.t.gettext(CLINIC_TYPES[code]) if code in CLINIC_TYPES else code

    def period(self, code: str) -> str:
        return self.t.gettext(PERIODS[code]) if code in PERIODS else code

    def status(self, code: str) -> str:
        return self.t.gettext(STATUSES[code]) if code in STATUSES else code

    def day(self, d: dt.date) -> str:
        return self.t.format.date(d, "full")

    def time(self, at: dt.datetime) -> str:
        return self.t.format.time(at.astimezone(self.zone), "short")

    def when(self, at: dt.datetime) -> str:
        local = at.astimezone(self.zone)
        return self.t.gettext("%(day)s at %(time)s", day=self.day(local.date()), time=self.time(local))

    def person(self, p: Person | None) -> str:
        return "—" if p is None else p.label(self.t)


def _flatten(nodes: list[DepartmentNode]):
    for n in nodes:
        yield n
        yield from _flatten(n.children)


async def _view(
    session: AsyncSession, t: Translator, *, practitioner_ids: set[uuid.UUID] | None = None
) -> View:
    doctors = await org.practitioners_by_ids(session, ids=practitioner_ids) if practitioner_ids else {}
    return View(t, await org.department_tree(session), await org.list_campuses(session), doctors)


async def _people(request: Request, actor: Actor) -> dict[uuid.UUID, Person]:
    """The user and the family members they act for (active links only); listing them is audited as on
    the portal. A registration desk books for the patient it chose (/desk/book/<id>); other accounts
    without a patient record are refused."""
    session = session_of(request)
    if actor.patient_id is None:
        chosen = parse_uuid(request.session.get(DESK_PATIENT)) if actor.has(Role.registrar) else None
        if chosen is None:
            raise Forbidden()
        p, _ = await patients.access_patient(session, actor=actor, patient_id=chosen, action="book")
        return {p.id: Person(p.id, p.name, DESK)}
    return {m.id: m for m in await patients.me_and_family(session, actor=actor)}


async def _book_again(
    request: Request, actor: Actor, people: dict[uuid.UUID, Person], v: View
) -> list[Shortcut]:
    """One big button per department booked lately, straight to the times of its next free session."""
    t, out = v.t, []
    for b, s in await service.book_again(session_of(request), actor=actor, patient_ids=list(people)):
        person, department = people[b.patient_id], v.department(b.department_id)
        label = (
            t.gettext("Book again: %(department)s", department=department)
            if person.relationship is None
            else t.gettext("Book again: %(department)s for %(name)s", department=department, name=person.name)
        )
        if s is None:
            out.append(
                Shortcut(
                    label,
                    f"/book?department={b.department_id}",
                    t.gettext("No free places soon; search other days"),
                )
            )
        else:
            out.append(
                Shortcut(
                    label,
                    f"/book/session/{s.id}?patient={b.patient_id}",
                    f"{v.day(s.session_on)} · {v.period(s.period)} · {v.doctor(s)}",
                )
            )
    return out


async def book_again_shortcuts(request: Request, actor: Actor) -> list[Shortcut]:
    """The shortcuts this domain offers on the home pages (installed through domains/registry.py)."""
    if actor.patient_id is None:
        return []
    t = translator(locale_of(request))
    return await _book_again(
        request, actor, await _people(request, actor), await _view(session_of(request), t)
    )


def _department_groups(tree: list[DepartmentNode], bookable: set[uuid.UUID], v: View) -> list[dict]:
    """The department select, grouped by top-level department; only branches holding clinics."""

    def has_clinics(n: DepartmentNode) -> bool:
        return n.id in bookable or any(has_clinics(c) for c in n.children)

    groups = []
    for root in tree:
        if not has_clinics(root):
            continue
        if not root.children:
            groups.append({"label": None, "options": [(root.id, v.name(root))]})
            continue
        options = [(root.id, v.t.gettext("All of %(department)s", department=v.name(root)))]
        options += [(n.id, v.name(n)) for n in _flatten(root.children) if has_clinics(n)]
        groups.append({"label": v.name(root), "options": options})
    return groups


@router.get("/desk/book/{patient_id}")
async def desk_book(request: Request, patient_id: uuid.UUID, actor: Actor = Depends(web_actor)):
    """A registration desk (or phone agent) books for a patient it found: the booking pages then act
    for that patient, and the bookings are made as desk bookings at the desk's campuses."""
    if not actor.has(Role.registrar) or actor.patient_id is not None:
        raise Forbidden()
    await patients.access_patient(session_of(request), actor=actor, patient_id=patient_id, action="book")
    request.session[DESK_PATIENT] = str(patient_id)
    return RedirectResponse("/book", status_code=303)


@router.get("/book")
async def find(
    request: Request,
    department: str | None = None,
    campus: str | None = None,
    day: str | None = None,
    title: str | None = None,
    weekends: str | None = None,
    actor: Actor = Depends(web_actor),
):
    session = session_of(request)
    people = await _people(request, actor)
    v = await _view(session, translator(locale_of(request)))
    today = clinic_day.today()
    days = [today + dt.timedelta(days=i) for i in range(service.SEARCH_DAYS)]
    q = {
        "department": parse_uuid(department),
        "campus": parse_uuid(campus),
        "day": next((d for d in days if d.isoformat() == day), None),
        "title": title if title in TITLES else None,
        "weekends": weekends == "1",
    }
    sessions = None
    if q["department"]:
        # what can still be booked (find_sessions leaves out clinics whose times have all passed)
        sessions = await service.find_sessions(
            session,
            department_id=q["department"],
            campus_id=q["campus"],
            first=q["day"] or days[0],
            last=q["day"] or days[-1],
            title=q["title"],
            weekends=q["weekends"],
        )
    bookable = await service.departments_with_sessions(session, first=days[0], last=days[-1])
    return render(
        request,
        "scheduling/templates/book.html",
        v=v,
        q=q,
        days=days,
        titles=TITLES,
        groups=_department_groups(v.tree, bookable, v),
        shortcuts=await _book_again(request, actor, people, v),
        sessions=sessions,
    )


@router.get("/book/session/{session_id}")
async def times(
    request: Request, session_id: str, patient: str | None = None, actor: Actor = Depends(web_actor)
):
    sid = parse_uuid(session_id)
    if sid is None:
        raise SessionNotFound()
    return await session_page(request, actor, sid, parse_uuid(patient))


async def session_page(
    request: Request,
    actor: Actor,
    sid: uuid.UUID,
    chosen: uuid.UUID | None,
    *,
    message: str | None = None,
    status: int = 200,
):
    """The free times of a session; when it is full, its waiting list (who of the family waits, and
    the form to join for the others)."""
    session = session_of(request)
    people = await _people(request, actor)
    s = await service.get_session(session, session_id=sid)
    now = clock.now()
    to_come = [x for x in await service.session_slots(session, session_id=sid) if x.starts_at > now]
    free = [x for x in to_come if x.available > 0]
    waiting = []
    if not free and s.released and s.status == "open" and to_come:
        waiting = [
            e
            for e in await waitlist.waitlist_for(session, actor=actor, patient_ids=list(people))
            if e.session_id == sid and e.status in LIVE_WAITLIST
        ]
    others = [p for p in people.values() if p.id not in {e.patient_id for e in waiting}]
    # by default the user themself, or the one person a desk acts for (a desk account has no patient record)
    chosen = (
        chosen
        if chosen in people
        else (actor.patient_id if actor.patient_id in people else next(iter(people), None))
    )
    return render(
        request,
        "scheduling/templates/session.html",
        status=status,
        v=await _view(session, translator(locale_of(request))),
        s=s,
        free=free,
        people=list(people.values()),
        chosen=chosen,
        waiting=waiting,
        others=others,
        person_of=people,
        now=now,
        message=message,
        over=not to_come,
        hold_minutes=get_settings().waitlist_hold_minutes,
        join_chosen=chosen if chosen in {p.id for p in others} else (others[0].id if others else None),
    )


@router.get("/book/confirm")
async def confirm_page(
    request: Request, slot: str | None = None, patient: str | None = None, actor: Actor = Depends(web_actor)
):
    session = session_of(request)
    people = await _people(request, actor)
    slot_id, patient_id = parse_uuid(slot), parse_uuid(patient) or actor.patient_id
    if slot_id is None:
        raise SlotNotFound()
    if patient_id not in people:
        raise Forbidden()
    x, s = await service.slot_detail(session, slot_id=slot_id)
    # the key is made with the form, so every submission of this form (a double tap, a reload) is one request
    return render(
        request,
        "scheduling/templates/confirm.html",
        v=await _view(session, translator(locale_of(request))),
        slot=x,
        s=s,
        person=people[patient_id],
        key=uuid.uuid4().hex,
        failed=False,
        message=None,
        cancel_until=(await service.cancel_deadlines(session))(s.department_id, x.starts_at),
    )


@router.post("/book/confirm")
async def confirm(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    form = await request.form()
    session = session_of(request)
    t = translator(locale_of(request))
    people = await _people(request, actor)
    slot_id, patient_id = (
        parse_uuid(form.get("slot_id")),
        parse_uuid(form.get("patient_id")) or actor.patient_id,
    )
    try:
        key = idempotency.check_key(str(form.get("key", "")) or None)
        if slot_id is None:
            raise SlotNotFound()
        body = BookingCreate(slot_id=slot_id, patient_id=patient_id)
        draw.limit(actor)
        await draw.wait_turn(
            session, actor=actor, patient_id=patient_id, slot_id=slot_id, session_id=None, idempotency_key=key
        )  # at a release instant: served in the order of the draw
        fingerprint = idempotency.request_hash(body.fingerprint(patient_id))
        earlier = await idempotency.claim(
            session, account_id=actor.account_id, key=key, fingerprint=fingerprint
        )
        if earlier is not None:  # the same form again: show the booking it made
            return RedirectResponse(f"/book/done/{earlier.response['id']}", status_code=303)
        booking = await service.book_slot(
            session, actor=actor, slot_id=body.slot_id, patient_id=patient_id, channel=body.channel
        )
        await idempotency.remember(
            session,
            account_id=actor.account_id,
            key=key,
            status_code=201,
            response=booking.model_dump(mode="json"),
        )
    except idempotency.IdempotencyKeyInvalid:
        return await _failed(
            request,
            slot_id,
            people.get(patient_id),
            status=422,
            message=t.gettext("The form has expired; reload the page and try again."),
        )
    except DomainError as exc:
        return await _failed(
            request,
            slot_id,
            people.get(patient_id),
            status=exc.status,
            message=t.gettext(exc.message, **exc.params),
        )
    return RedirectResponse(f"/book/done/{booking.id}", status_code=303)


async def _failed(
    request: Request, slot_id: uuid.UUID | None, person: Person | None, *, status: int, message: str
):
    session = session_of(request)
    x = s = None
    if slot_id is not None:
        try:
            x, s = await service.slot_detail(session, slot_id=slot_id)
        except DomainError:
            pass  # the message already says what is wrong
    return render(
        request,
        "scheduling/templates/confirm.html",
        status=status,
        v=await _view(session, translator(locale_of(request))),
        slot=x,
        s=s,
        person=person,
        key=None,
        failed=True,
        message=message,
    )


@router.get("/book/done/{booking_id}")
async def done(request: Request, booking_id: str, actor: Actor = Depends(web_actor)):
    session = session_of(request)
    people = await _people(request, actor)
    bid = parse_uuid(booking_id)
    if bid is None:
        raise BookingNotFound()
    b = await service.get_booking(session, actor=actor, booking_id=bid)
    x, s = await service.slot_detail(session, slot_id=b.slot_id)
    return render(
        request,
        "scheduling/templates/done.html",
        v=await _view(session, translator(locale_of(request))),
        b=b,
        slot=x,
        s=s,
        person=people.get(b.patient_id),
        active=b.status in service.ACTIVE_BOOKING,
        cancel_until=(await service.cancel_deadlines(session))(b.department_id, b.starts_at),
    )
