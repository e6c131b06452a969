"""Pages of the pre-consultation domain: the questionnaire on the patient's phone (for a booking,
or for a department after triage: /preconsult/department/<code>), saving to finish later,
submitting, and the confirmation with the summary the doctor will read.

Skip logic runs live in the browser (static/zhiyi-questionnaire.js, which in elderly mode also shows
one section a step) and again on the server, which decides what is stored."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from zhiyi.core.errors import Forbidden
from zhiyi.core.i18n import translator
from zhiyi.core.policy import Actor
from zhiyi.domains.org import service as org
from zhiyi.domains.patients import service as patients
from zhiyi.domains.preconsult import service
from zhiyi.domains.preconsult.enablewhen import Coding, Value, expected_value
from zhiyi.domains.preconsult.errors import AnswersInvalid, BookingNotFound, ResponseNotFound
from zhiyi.domains.preconsult.forms import Form, Item, lang_of, text
from zhiyi.domains.preconsult.responses import answers_from_page, field_name
from zhiyi.domains.preconsult.service import FormState, Target
from zhiyi.http.auth import web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.forms import parse_uuid
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)


def _js_value(v: Value) -> object:
    if isinstance(v, Coding):
        return v.code
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bool | str | int | float):
        return v
    return v.isoformat()  # dates: ISO dates compare as text


class FormView:
    """The questionnaire in the reader's language, with the answers so far, for the template."""

    def __init__(
        self,
        form: Form,
        lang: str,
        answers: dict[str, list[Value]],
        enabled: set[str],
        errors: dict[str, str],
    ):
        self.form, self.lang, self.answers, self.enabled, self.errors = form, lang, answers, enabled, errors

    @property
    def top(self) -> list[dict]:
        return self.form.top

    def item(self, raw: dict) -> Item:
        return self.form.items[raw["linkId"]]

    def text(self, raw: dict) -> str:
        return text(raw, "text", self.lang)

    def name(self, raw: dict) -> str:
        return field_name(raw["linkId"])

    def options(self, raw: dict) -> list[tuple[str, str, bool]]:
        """(code, label, chosen) of a choice item."""
        chosen = {v.code for v in self.answers.get(raw["linkId"], []) if isinstance(v, Coding)}
        return [
            (o.coding.code, o.display[self.lang], o.coding.code in chosen) for o in self.item(raw).options
        ]

    def is_answer(self, raw: dict, value: bool) -> bool:
        return value in [v for v in self.answers.get(raw["linkId"], []) if isinstance(v, bool)]

    def value(self, raw: dict) -> str:
        given = self.answers.get(raw["linkId"]) or []
        return "" if not given else str(_js_value(given[0]))

    def hidden(self, raw: dict) -> bool:
        return raw["linkId"] not in self.enabled

    def conditions(self, raw: dict) -> str:
        """The item's enableWhen for the browser: question, operator, expected value."""
        return json.dumps(
            [
                {"q": c["question"], "op": c["operator"], "v": _js_value(expected_value(c))}
                for c in raw.get("enableWhen") or []
            ],
            ensure_ascii=False,
        )


async def _department_name(request: Request, code: str) -> str:
    zh = locale_of(request) == "zh_CN"
    todo = list(await org.department_tree(session_of(request)))
    while todo:
        node = todo.pop()
        if node.code == code:
            return node.name_zh if zh else node.name_en
        todo.extend(node.children)
    return code


async def _page(
    request: Request,
    target: Target,
    *,
    action: str,
    state: FormState | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
    choices: list | None = None,
):
    session = session_of(request)
    state = state or await service.open_form(session, target=target)
    lang = lang_of(locale_of(request))
    patient = await patients.get_patient(session, patient_id=target.patient_id)
    view = FormView(target.form, lang, state.answers, service.enabled_items(state), errors or {})
    return render(
        request,
        "preconsult/templates/questionnaire.html",
        status=status,
        fv=view,
        action=action,
        title=target.form.title(lang),
        department=await _department_name(request, target.department_code),
        patient=patient,
        on_behalf=target.on_behalf,
        saved=saved,
        errors=errors or {},
        draft=state.draft,
        choices=choices or [],
    )


async def _save(request: Request, actor: Actor, target: Target, *, action: str):
    """Save or submit the posted page; a problem shows the page again with the answers as given."""
    session = session_of(request)
    form_data = await request.form()
    complete = form_data.get("action") == "submit"
    t = translator(locale_of(request))
    refused = []
    try:
        answers = answers_from_page(target.form, form_data)
    except AnswersInvalid as exc:  # also name the required questions left out, all at once
        refused, answers = exc.errors, answers_from_page(target.form, form_data, lenient=True)
    try:
        if refused:
            await service.check_answers(session, target=target, answers=answers, complete=complete)
        else:
            row = await service.save_answers(
                session, actor=actor, target=target, answers=answers, complete=complete
            )
    except AnswersInvalid as exc:
        refused += exc.errors
    if refused:
        state = await service.open_form(session, target=target)
        # show what was typed (what parses of it), not what was saved before
        state.answers = {
            **{k: v for k, v in state.answers.items() if target.form.items[k].prefill},
            **answers,
        }
        errors = {e.field: t.gettext(e.message) for e in refused}
        return await _page(request, target, action=action, state=state, errors=errors, status=422)
    if complete:
        return RedirectResponse(f"/preconsult/done/{row.id}", status_code=303)
    return RedirectResponse(f"{action}{'&' if '?' in action else '?'}saved=1", status_code=303)


@router.get("/preconsult/booking/{booking_id}")
async def booking_form(
    request: Request, booking_id: str, saved: str | None = None, actor: Actor = Depends(web_actor)
):
    bid = parse_uuid(booking_id)
    if bid is None:
        raise BookingNotFound()
    target = await service.target_for_booking(session_of(request), actor=actor, booking_id=bid)
    return await _page(request, target, action=f"/preconsult/booking/{bid}", saved=bool(saved))


@router.post("/preconsult/booking/{booking_id}")
async def booking_save(
    request: Request, booking_id: str, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    bid = parse_uuid(booking_id)
    if bid is None:
        raise BookingNotFound()
    target = await service.target_for_booking(session_of(request), actor=actor, booking_id=bid)
    return await _save(request, actor, target, action=f"/preconsult/booking/{bid}")


async def _for_whom(request: Request, actor: Actor, code: str) -> list[tuple[str, str, bool]]:
    """(link, name, chosen) for the user and the family members they act for."""
    if actor.patient_id is None:
        raise Forbidden()
    family = await patients.active_dependents(session_of(request), proxy_patient_id=actor.patient_id)
    chosen = parse_uuid(request.query_params.get("patient")) or actor.patient_id
    t = translator(locale_of(request))
    people = [(f"/preconsult/department/{code}", t.gettext("Myself"), chosen == actor.patient_id)]
    return people + [
        (f"/preconsult/department/{code}?patient={p.id}", p.name, chosen == p.id) for _, p in family
    ]


def _department_action(code: str, patient: uuid.UUID | None) -> str:
    return f"/preconsult/department/{code}" + (f"?patient={patient}" if patient else "")


@router.get("/preconsult/department/{code}")
async def department_form(
    request: Request,
    code: str,
    patient: str | None = None,
    saved: str | None = None,
    actor: Actor = Depends(web_actor),
):
    """The form of a department for the current patient (or `?patient=` a family member): the triage
    page links here."""
    pid = parse_uuid(patient)
    if patient and pid is None:
        raise ResponseNotFound()  # a mangled ?patient= must not fall back to the user's own record
    target = await service.target_for_department(
        session_of(request), actor=actor, code=code[:40], patient_id=pid
    )
    return await _page(
        request,
        target,
        action=_department_action(target.department_code, pid),
        saved=bool(saved),
        choices=await _for_whom(request, actor, target.department_code),
    )


@router.post("/preconsult/department/{code}")
async def department_save(
    request: Request,
    code: str,
    patient: str | None = None,
    actor: Actor = Depends(web_actor),
    _csrf=Depends(check_csrf),
):
    pid = parse_uuid(patient)
    if patient and pid is None:
        raise ResponseNotFound()  # a mangled ?patient= must not fall back to the user's own record
    target = await service.target_for_department(
        session_of(request), actor=actor, code=code[:40], patient_id=pid
    )
    return await _save(request, actor, target, action=_department_action(target.department_code, pid))


@router.get("/preconsult/done/{response_id}")
async def done(request: Request, response_id: str, actor: Actor = Depends(web_actor)):
    rid = parse_uuid(response_id)
    if rid is None:
        raise ResponseNotFound()
    if actor.patient_id is None:
        raise Forbidden()  # the confirmation is the patient's page; doctors read forms on their queue
    session = session_of(request)
    row = await service.get_response(session, actor=actor, response_id=rid)
    patient = await patients.get_patient(session, patient_id=row.patient_id)
    return render(
        request,
        "preconsult/templates/done.html",
        s=service.summary_read(row, locale_of(request)),
        patient=patient,
        department=await _department_name(request, row.department_code),
        row=row,
    )
