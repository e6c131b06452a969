"""Pages of the triage domain: "which department?" by typing (or speaking) or, in elderly mode,
by tapping the body map and a common complaint; the answer (departments with their doctors'
next free times, or the emergency instruction); follow-up questions; "talk to a person" (a chat
with the service desk) and the service desk's own pages; the review of emergency answers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError

from zhiyi.core.config import get_settings
from zhiyi.core.errors import DomainError, Forbidden, NotFound
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.patients import service as patients
from zhiyi.domains.triage import handover, knowledge, service
from zhiyi.domains.triage.policy import AGENT_ROLES
from zhiyi.domains.triage.schemas import TriageAsk
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web import live
from zhiyi.web.forms import invalid_fields_message, parse_uuid, path_id, safe_next
from zhiyi.web.shortcuts import Shortcut
from zhiyi.web.templating import check_csrf, locale_of, render, render_text

router = APIRouter(route_class=TxRoute, include_in_schema=False)
T = "triage/templates/"

# The body map: each region's shape on a 200 x 440 figure (front and back views side by side in the page).
SHAPES: dict[str, tuple[str, str]] = {
    "head": ("front", "ellipse:100,38,30,34"),
    "eyes": ("front", "rect:80,26,40,12"),
    "ears": ("front", "rect:62,34,12,22"),
    "nose": ("front", "rect:93,40,14,14"),
    "mouth_teeth": ("front", "rect:86,56,28,12"),
    "face": ("front", "rect:74,14,52,10"),
    "throat_neck": ("front", "rect:86,74,28,20"),
    "chest": ("front", "rect:62,96,76,54"),
    "upper_abdomen": ("front", "rect:66,152,68,36"),
    "lower_abdomen": ("front", "rect:66,190,68,34"),
    "pelvis_genitals": ("front", "rect:74,226,52,26"),
    "arms": ("front", "rect:30,100,28,110"),
    "hands": ("front", "rect:22,212,30,30"),
    "legs": ("front", "rect:70,256,60,80"),
    "knees": ("front", "rect:70,338,60,24"),
    "feet": ("front", "rect:66,400,68,26"),
    "back_neck": ("back", "rect:86,74,28,20"),
    "upper_back": ("back", "rect:62,96,76,60"),
    "lower_back": ("back", "rect:64,158,72,50"),
    "buttocks_anus": ("back", "rect:66,210,68,40"),
}
ELDERLY_SHORTLIST = 8


async def _people(request: Request, actor: Actor):
    return await patients.me_and_family(session_of(request), actor=actor)


def _regions(lang: str) -> list[dict]:
    kn = knowledge.knowledge()
    out = []
    for p in kn.body_parts.values():
        view, shape = SHAPES.get(p.id, (p.view, ""))
        kind, _, nums = shape.partition(":")
        out.append(
            {
                "id": p.id,
                "view": view,
                "name": p.name(lang),
                "kind": kind,
                "n": [int(x) for x in nums.split(",")] if nums else [],
                "complaints": [{"id": c, "name": kn.symptoms[c].name(lang)} for c in p.complaints],
            }
        )
    return out


def _lang(request: Request) -> str:
    return "zh" if locale_of(request) == "zh_CN" else "en"


@router.get("/triage")
async def ask_page(request: Request, body: str | None = None, actor: Actor = Depends(web_actor)):
    people = await _people(request, actor)
    kn = knowledge.knowledge()
    region = kn.body_parts.get(body or "")
    lang = _lang(request)
    complaints = [{"id": c, "name": kn.symptoms[c].name(lang)} for c in region.complaints] if region else []
    return render(
        request,
        T + "ask.html",
        people=people,
        regions=_regions(lang),
        region=region,
        tl=lang,
        complaints=complaints[:ELDERLY_SHORTLIST] if request.session.get("elderly") else complaints,
        form={},
        message=None,
    )


@router.post("/triage")
async def ask(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    form = await request.form()
    t = translator(locale_of(request))
    kn = knowledge.knowledge()
    text = str(form.get("text", ""))
    complaint = str(form.get("complaint", ""))
    if complaint in kn.symptoms and not text.strip():  # tapped, not typed
        text = kn.symptoms[complaint].name(_lang(request))
    answers = {
        q: str(form.get(f"answer_{q}", "")) for q in ("duration", "fever", "body") if form.get(f"answer_{q}")
    }
    if form.get("patient") and parse_uuid(form.get("patient")) is None:
        raise NotFound()  # a mangled patient must not fall back to the user's own record
    try:
        ask_ = TriageAsk(
            text=text,
            patient_id=parse_uuid(form.get("patient")) or None,
            pregnant=True if form.get("pregnant") == "1" else None,
            body_part=str(form.get("body_part")) or None if form.get("body_part") else None,
            answers=answers,
        )
        result = await service.assess(session_of(request), actor=actor, ask=ask_)
    except ValidationError as exc:
        return await _again(request, actor, text, invalid_fields_message(t, exc))
    except DomainError as exc:
        if exc.status != 422:
            raise
        detail = "; ".join(t.gettext(e.message) for e in exc.errors) or t.gettext(exc.message)
        return await _again(request, actor, text, detail)
    return RedirectResponse(f"/triage/{result.id}", status_code=303)


async def _again(request: Request, actor: Actor, text: str, message: str):
    people = await _people(request, actor)
    return render(
        request,
        T + "ask.html",
        status=422,
        people=people,
        regions=_regions(_lang(request)),
        region=None,
        tl=_lang(request),
        complaints=[],
        form={"text": text},
        message=message,
    )


@router.get("/triage/desk")
async def desk(request: Request, actor: Actor = Depends(web_actor)):
    if not any(actor.has(r) for r in AGENT_ROLES):
        raise Forbidden()
    queue = await handover.handover_queue(session_of(request), actor=actor)
    return render(request, T + "desk.html", queue=queue, zone=ZoneInfo(get_settings().timezone))


@router.get("/triage/desk/{handover_id}")
async def desk_chat(request: Request, handover_id: str, actor: Actor = Depends(web_actor)):
    hid = path_id(handover_id)
    h = await handover.agent_view(session_of(request), actor=actor, handover_id=hid)
    return render(
        request,
        T + "desk_chat.html",
        h=h,
        departments=service.department_choices(_lang(request)),
        zone=ZoneInfo(get_settings().timezone),
        events=f"/triage/desk/{hid}/events",
        version=await handover.handover_version(session_of(request), handover_id=hid),
    )


def _chat_stream(request: Request, hid, status: str, read) -> StreamingResponse:
    """A chat page's messages, sent again whenever one is written (no refresh needed); the page reloads
    when the conversation's status changes (taken, closed: its forms change)."""
    db, zone = request.app.state.db, ZoneInfo(get_settings().timezone)

    async def version() -> int:
        async with db.sessionmaker() as s:
            return await handover.handover_version(s, handover_id=hid)

    async def fragment(s) -> dict:
        h = await read(s)
        if h.status != status:
            return {"reload": True}
        return {"html": render_text(request, T + "_messages.html", h=h, zone=zone)}

    return live.stream(
        request,
        version=version,
        fragment=fragment,
        poll=get_settings().queue_poll_seconds,
        lifetime=get_settings().queue_stream_seconds,
    )


@router.get("/triage/desk/{handover_id}/events")
async def desk_chat_events(
    request: Request, handover_id: str, status: str = "", actor: Actor = Depends(web_actor)
):
    hid = path_id(handover_id)
    await handover.agent_view(session_of(request), actor=actor, handover_id=hid)  # may they? (audited)
    return _chat_stream(request, hid, status, lambda s: handover.agent_view(s, actor=actor, handover_id=hid))


@router.post("/triage/desk/{handover_id}/{action}")
async def desk_act(
    request: Request,
    handover_id: str,
    action: str,
    actor: Actor = Depends(web_actor),
    _csrf=Depends(check_csrf),
):
    hid = path_id(handover_id)
    if action not in ("take", "message", "close"):
        raise NotFound()
    form = await request.form()
    session = session_of(request)
    if action == "take":
        await handover.take_handover(session, actor=actor, handover_id=hid)
    elif action == "message":
        text = str(form.get("text", "")).strip()[:2000]
        if text:
            await handover.send_message(session, actor=actor, handover_id=hid, text=text)
    else:
        code = str(form.get("department", "")) or None
        await handover.close_handover(session, actor=actor, handover_id=hid, department_code=code)
        return RedirectResponse("/triage/desk", status_code=303)
    return RedirectResponse(f"/triage/desk/{hid}", status_code=303)


@router.get("/triage/emergencies")
async def emergencies(request: Request, actor: Actor = Depends(web_actor)):
    rows = await service.emergencies(session_of(request), actor=actor)
    kn = knowledge.knowledge()
    lang = _lang(request)
    flags = {f.id: f.name(lang) for f in kn.red_flags}
    return render(
        request,
        T + "emergencies.html",
        rows=rows,
        flags=flags,
        zone=ZoneInfo(get_settings().timezone),
        contacts=await service.emergency_contacts(session_of(request), rows),
    )


@router.post("/triage/emergencies/{assessment_id}/reviewed")
async def reviewed(
    request: Request, assessment_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    aid = path_id(assessment_id)
    await service.mark_reviewed(session_of(request), actor=actor, assessment_id=aid)
    return RedirectResponse("/triage/emergencies", status_code=303)


@router.post("/triage/handover")
async def ask_for_a_person(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    form = await request.form()
    h = await handover.request_handover(
        session_of(request),
        actor=actor,
        assessment_id=parse_uuid(form.get("assessment")),
        text=str(form.get("text", ""))[:2000],
    )
    return RedirectResponse(f"/triage/handover/{h.id}", status_code=303)


@router.get("/triage/handover/{handover_id}")
async def handover_page(request: Request, handover_id: str, actor: Actor = Depends(web_actor)):
    hid = path_id(handover_id)
    h = await handover.my_handover(session_of(request), actor=actor, handover_id=hid)
    return render(
        request,
        T + "handover.html",
        h=h,
        zone=ZoneInfo(get_settings().timezone),
        events=f"/triage/handover/{hid}/events",
        version=await handover.handover_version(session_of(request), handover_id=hid),
    )


@router.get("/triage/handover/{handover_id}/events")
async def handover_events(
    request: Request, handover_id: str, status: str = "", actor: Actor = Depends(web_actor)
):
    hid = path_id(handover_id)
    await handover.my_handover(session_of(request), actor=actor, handover_id=hid)  # may they? (audited)
    return _chat_stream(request, hid, status, lambda s: handover.my_handover(s, actor=actor, handover_id=hid))


@router.post("/triage/handover/{handover_id}/message")
async def handover_message(
    request: Request, handover_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    hid = path_id(handover_id)
    form = await request.form()
    text = str(form.get("text", "")).strip()[:2000]
    if text:
        await handover.send_message(session_of(request), actor=actor, handover_id=hid, text=text)
    return RedirectResponse(f"/triage/handover/{hid}", status_code=303)


@router.get("/triage/{assessment_id}")
async def result(request: Request, assessment_id: str, actor: Actor = Depends(web_actor)):
    aid = path_id(assessment_id)
    a = await service.get_assessment(session_of(request), actor=actor, assessment_id=aid, lang=_lang(request))
    return render(
        request,
        T + "result.html",
        a=a,
        zone=ZoneInfo(get_settings().timezone),
        thanks=request.query_params.get("thanks") == "1",
    )


@router.post("/triage/{assessment_id}/reassign")
async def reassign(
    request: Request, assessment_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """From the doctor's queue page: the department that was right for this complaint."""
    aid = path_id(assessment_id)
    form = await request.form()
    await service.reassign(
        session_of(request),
        actor=actor,
        assessment_id=aid,
        department_code=str(form.get("department", ""))[:40],
    )
    return RedirectResponse(safe_next(form.get("next"), "/queue/doctor"), status_code=303)


@router.post("/triage/{assessment_id}/feedback")
async def feedback(
    request: Request, assessment_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    aid = path_id(assessment_id)
    form = await request.form()
    await service.give_feedback(
        session_of(request), actor=actor, assessment_id=aid, helped=form.get("helped") == "1"
    )
    return RedirectResponse(f"/triage/{aid}?thanks=1", status_code=303)


async def triage_shortcuts(request: Request, actor: Actor | None) -> list[Shortcut]:
    """'Which department?' on the patient's home page (and the service desk's queue for its staff)."""
    t = translator(locale_of(request))
    out = []
    if actor.has(Role.patient):
        out.append(Shortcut(t.gettext(N_("Not sure which department? Ask here")), "/triage"))
    if any(actor.has(r) for r in AGENT_ROLES) and actor.patient_id is None:
        out.append(Shortcut(t.gettext(N_("Service desk: patients asking for help")), "/triage/desk"))
    return out
