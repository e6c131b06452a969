"""Pages of the queueing domain: "I have arrived" and the live queue position on the patient's
phone, the check-in desk (one-code QR), the doctor's queue with "call next", and the
waiting-area screen. Live pages follow a Server-Sent Events stream (static/zhiyi-live.js)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import clock
from zhiyi.core.config import get_settings
from zhiyi.core.errors import DomainError, Forbidden, NotFound
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.org import service as org
from zhiyi.domains.patients import service as patients
from zhiyi.domains.preconsult import service as preconsult
from zhiyi.domains.queueing import service
from zhiyi.domains.queueing.errors import QueueChanged
from zhiyi.domains.queueing.schemas import Board, Position
from zhiyi.domains.scheduling import service as scheduling
from zhiyi.domains.scheduling.schemas import SessionRead
from zhiyi.domains.triage import service as triage
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web import live
from zhiyi.web.forms import parse_uuid
from zhiyi.web.shortcuts import Shortcut
from zhiyi.web.templating import check_csrf, locale_of, render, render_text

router = APIRouter(route_class=TxRoute, include_in_schema=False)

MAX_WATCHED = 10_000  # clinic sessions whose versions this process remembers
ACTIONS = ("call_next", "recall", "skip", "away", "finish")
REASONS = {
    "aged_80": N_("Aged 80 or over"),
    "disabled": N_("Disability"),
    "pregnant": N_("Pregnant"),
    "returning_with_results": N_("Back with test results"),
}
DESK_ROLES = {Role.registrar, Role.nurse, Role.doctor}


class Names:
    """The doctor's, department's, campus's and room's names of a session, in the reader's language."""

    def __init__(self, request: Request, cs: SessionRead, rooms: dict, campuses: dict):
        self.t = translator(locale_of(request))
        self.zh = self.t.locale == "zh_CN"
        self.cs, self.zone = cs, ZoneInfo(get_settings().timezone)
        self.doctor = cs.practitioner_name_zh if self.zh else cs.practitioner_name_en
        room, campus = rooms.get(cs.room_id), campuses.get(cs.campus_id)
        self.room = (room.name_zh if self.zh else room.name_en) if room else ""
        self.campus = (campus.name_zh if self.zh else campus.name_en) if campus else ""

    def time(self, at) -> str:
        return self.t.format.time(at.astimezone(self.zone), "short")

    def reason(self, code: str | None) -> str:
        return self.t.gettext(REASONS[code]) if code in REASONS else ""


async def _names(request: Request, session: AsyncSession, cs: SessionRead) -> Names:
    rooms = await org.rooms_by_ids(session, ids={cs.room_id} if cs.room_id else set())
    campuses = {c.id: c for c in await org.list_campuses(session)}
    return Names(request, cs, rooms, campuses)


async def _session(session: AsyncSession, session_id: uuid.UUID | None) -> SessionRead:
    if session_id is None:
        raise NotFound()
    return await scheduling.get_session(session, session_id=session_id)


_versions: dict[uuid.UUID, tuple[float, int]] = {}  # session -> (when looked, version), this process


async def _version(db, session_id: uuid.UUID, poll: float) -> int:
    """The board's version, looked up at most once per poll interval per process, however many
    pages follow it (a waiting-room screen and a hundred phones cost one query)."""
    seen = _versions.get(session_id)
    if seen is not None and time.monotonic() - seen[0] < poll * 0.9:
        return seen[1]
    async with db.sessionmaker() as session:
        version = await service.version(session, session_id=session_id)
    _versions[session_id] = (time.monotonic(), version)
    if len(_versions) > MAX_WATCHED:
        del _versions[next(iter(_versions))]
    return version


def _stream(
    request: Request, session_id: uuid.UUID, fragment: Callable[[AsyncSession], Awaitable[dict]]
) -> StreamingResponse:
    """The page follows its clinic session's queue (web/live.py): sent again whenever it changes."""
    db, poll = request.app.state.db, get_settings().queue_poll_seconds

    async def version() -> int:
        return await _version(db, session_id, poll)

    return live.stream(
        request, version=version, fragment=fragment, poll=poll, lifetime=get_settings().queue_stream_seconds
    )


# --- the patient's phone ------------------------------------------------------------------------


def _position_html(request: Request, p: Position, names: Names) -> str:
    return render_text(request, "queueing/templates/_position.html", p=p, n=names)


@router.post("/queue/arrive/{booking_id}")
async def arrive(
    request: Request, booking_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    await service.arrive(session_of(request), actor=actor, booking_id=booking_id)
    return RedirectResponse(f"/queue/position/{booking_id}", status_code=303)


@router.get("/queue/position/{booking_id}")
async def position_page(request: Request, booking_id: uuid.UUID, actor: Actor = Depends(web_actor)):
    session = session_of(request)
    p = await service.position(session, actor=actor, booking_id=booking_id)
    names = await _names(request, session, await _session(session, p.session_id))
    return render(
        request,
        "queueing/templates/position.html",
        p=p,
        n=names,
        live=_position_html(request, p, names),
        events=f"/queue/position/{booking_id}/events",
    )


@router.get("/queue/position/{booking_id}/events")
async def position_events(request: Request, booking_id: uuid.UUID, actor: Actor = Depends(web_actor)):
    session = session_of(request)
    p = await service.position(session, actor=actor, booking_id=booking_id)
    names = await _names(request, session, await _session(session, p.session_id))

    async def fragment(s: AsyncSession) -> dict:  # decided and audited again at every change
        now = await service.position(s, actor=actor, booking_id=booking_id)
        return {"html": _position_html(request, now, names), "status": now.status, "ahead": now.ahead}

    return _stream(request, p.session_id, fragment)


@router.get("/queue/arrive/{booking_id}")
async def arrive_page(request: Request, booking_id: uuid.UUID, actor: Actor = Depends(web_actor)):
    """One big button (the home page's shortcut leads here: two taps from home to the queue)."""
    session = session_of(request)
    b = await scheduling.get_booking(session, actor=actor, booking_id=booking_id)
    names = await _names(request, session, await _session(session, b.session_id))
    return render(request, "queueing/templates/arrive.html", b=b, n=names)


async def arrival_shortcuts(request: Request, actor: Actor) -> list[Shortcut]:
    """Today's appointments of the user and their family on the home pages: "I have arrived", or
    the place in the queue once checked in (installed through domains/registry.py)."""
    if actor.patient_id is None:
        return []
    session, t = session_of(request), translator(locale_of(request))
    family = await patients.active_dependents(session, proxy_patient_id=actor.patient_id)
    names = {actor.patient_id: None} | {p.id: p.name for _, p in family}
    now = clock.now()
    out = []
    for b in await scheduling.bookings_for(session, actor=actor, patient_ids=list(names)):
        if b.status not in scheduling.ACTIVE_BOOKING or not scheduling.is_now(b.session_on, b.starts_at):
            continue
        who = names[b.patient_id]
        cs = await _session(session, b.session_id)
        n = await _names(request, session, cs)
        detail = f"{n.time(b.starts_at)} · {n.doctor} · {n.room}"
        opens, closes = service.check_in_window(b, cs, staff=False)
        if b.status == "booked":
            if now < opens:  # not a button that can only fail: when it opens
                out.append(
                    Shortcut(
                        t.gettext("Check-in opens at %(time)s", time=n.time(opens)), "/appointments", detail
                    )
                )
            elif now <= closes:
                label = (
                    t.gettext("I have arrived")
                    if who is None
                    else t.gettext("%(name)s has arrived", name=who)
                )
                out.append(Shortcut(label, f"/queue/arrive/{b.id}", detail))
        else:
            label = (
                t.gettext("My place in the queue")
                if who is None
                else t.gettext("%(name)s's place in the queue", name=who)
            )
            out.append(Shortcut(label, f"/queue/position/{b.id}", detail))
    return out


# --- the check-in desk or kiosk ------------------------------------------------------------------


def _desk_actor(actor: Actor) -> None:
    if not actor.roles & DESK_ROLES:
        raise Forbidden()


@router.get("/queue/desk")
async def desk(request: Request, actor: Actor = Depends(web_actor)):
    _desk_actor(actor)
    return render(request, "queueing/templates/desk.html", reasons=REASONS)


@router.post("/queue/desk")
async def desk_check_in(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    _desk_actor(actor)
    form = await request.form()
    token, reason = str(form.get("token") or "").strip(), form.get("priority_reason") or None
    t = translator(locale_of(request))
    ctx = {"reasons": REASONS, "token": token, "reason": reason}
    if not token:
        return render(
            request,
            "queueing/templates/desk.html",
            status=422,
            error=t.gettext("Scan the patient's code."),
            **ctx,
        )
    session = session_of(request)
    try:
        entry = await service.check_in_by_token(
            session,
            actor=actor,
            token=token,
            booking_id=parse_uuid(form.get("booking")),
            priority_reason=reason if reason in ("disabled", "pregnant") else None,
        )
    except DomainError as e:
        if e.code != "choose_booking":
            return render(
                request, "queueing/templates/desk.html", status=e.status, error=t.gettext(e.message), **ctx
            )
        _, found = await service.arrivals(session, actor=actor, token=token)
        choices = [(b, await _names(request, session, await _session(session, b.session_id))) for b in found]
        return render(
            request,
            "queueing/templates/desk.html",
            status=409,
            error=t.gettext(e.message),
            choices=choices,
            **ctx,
        )
    names = await _names(request, session, await _session(session, entry.session_id))
    return render(request, "queueing/templates/desk.html", reasons=REASONS, done=entry, n=names)


# --- the doctor's queue ----------------------------------------------------------------------------


@router.get("/queue/doctor")
async def doctor_home(request: Request, actor: Actor = Depends(web_actor)):
    if not actor.is_staff:
        raise Forbidden()
    session = session_of(request)
    sessions = await service.todays_sessions(session, actor=actor)
    return render(
        request,
        "queueing/templates/doctor_home.html",
        sessions=[(s, await _names(request, session, s)) for s in sessions],
    )


@router.get("/queue/doctor/{session_id}")
async def doctor_queue(request: Request, session_id: uuid.UUID, actor: Actor = Depends(web_actor)):
    session = session_of(request)
    board, people = await service.staff_board(session, actor=actor, session_id=session_id)
    names = await _names(request, session, await _session(session, session_id))
    shown = ([board.current] if board.current else []) + board.waiting
    # the pre-visit forms of the patients in the room and waiting (the session's own doctor only; each read
    # audited)
    summaries = await preconsult.pre_visit_summaries(
        session,
        actor=actor,
        session_id=session_id,
        locale=locale_of(request),
        bookings=[(e.booking_id, e.patient_id) for e in shown],
    )
    # what triage made of the complaint of the patient in the room (the doctor may name the right department)
    lang = "zh" if names.zh else "en"
    triaged = (
        await triage.note_for_doctor(session, actor=actor, patient_id=board.current.patient_id, lang=lang)
        if board.current
        else None
    )
    return render(
        request,
        "queueing/templates/doctor.html",
        b=board,
        people=people,
        n=names,
        summaries=summaries,
        triaged=triaged,
        departments=triage.department_choices(lang) if triaged else [],
        events=f"/queue/doctor/{session_id}/events",
    )


@router.post("/queue/doctor/{session_id}/{action}")
async def doctor_act(
    request: Request,
    session_id: uuid.UUID,
    action: str,
    actor: Actor = Depends(web_actor),
    _csrf=Depends(check_csrf),
):
    if action not in ACTIONS:
        raise NotFound()
    seen = str((await request.form()).get("version") or "")
    try:
        await service.run_queue(
            session_of(request),
            actor=actor,
            session_id=session_id,
            action=action,
            expected_version=int(seen) if seen.isdigit() else None,
        )
    except QueueChanged:
        pass  # a double tap or a stale page: show the queue as it is now, change nothing
    return RedirectResponse(f"/queue/doctor/{session_id}", status_code=303)


@router.get("/queue/doctor/{session_id}/events")
async def doctor_events(request: Request, session_id: uuid.UUID, actor: Actor = Depends(web_actor)):
    """Tells the doctor's page to reload when the queue changes (the reload is the audited read)."""
    await service.staff_board(session_of(request), actor=actor, session_id=session_id)

    async def fragment(_s: AsyncSession) -> dict:
        return {"reload": True}

    return _stream(request, session_id, fragment)


# --- the waiting-area screen -------------------------------------------------------------------------


def _display_html(request: Request, b: Board, names: Names) -> str:
    return render_text(request, "queueing/templates/_display.html", b=b, n=names)


@router.get("/queue/display/{session_id}")
async def display(request: Request, session_id: uuid.UUID):
    """Public: numbers only, never names (the screen hangs in a waiting room)."""
    session = session_of(request)
    names = await _names(request, session, await _session(session, session_id))
    board = await service.board(session, session_id=session_id)
    return render(
        request,
        "queueing/templates/display.html",
        n=names,
        live=_display_html(request, board, names),
        events=f"/queue/display/{session_id}/events",
    )


@router.get("/queue/display/{session_id}/events")
async def display_events(request: Request, session_id: uuid.UUID):
    session = session_of(request)
    names = await _names(request, session, await _session(session, session_id))

    async def fragment(s: AsyncSession) -> dict:
        return {"html": _display_html(request, await service.board(s, session_id=session_id), names)}

    return _stream(request, session_id, fragment)
