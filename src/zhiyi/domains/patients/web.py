"""Pages of the patients domain: the patient portal, the staff scan desk, the admin audit view."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from zhiyi.core import audit
from zhiyi.core.config import get_settings
from zhiyi.core.errors import DomainError, Forbidden
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import CLINICAL_ROLES, Actor, Role
from zhiyi.domains.patients import policy, service
from zhiyi.domains.patients.schemas import (
    DependentCreate,
    OneCodeScan,
    PatientCreate,
    PatientUpdate,
    ProxyConfirm,
    Reason,
)
from zhiyi.http.auth import require_role, web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web import shortcuts
from zhiyi.web.forms import domain_error_message, invalid_fields_message
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)

INSURANCE_LABELS = {
    "urban_employee": N_("Urban employee basic medical insurance"),
    "urban_rural_resident": N_("Urban and rural resident basic medical insurance"),
    "commercial": N_("Commercial insurance"),
    "self_pay": N_("Self-pay"),
}
# Relationship and link-status words shown through _(value|capitalize) in templates.
WORDS = (
    N_("Child"),
    N_("Parent"),
    N_("Spouse"),
    N_("Grandparent"),
    N_("Other"),
    N_("Pending"),
    N_("Active"),
    N_("Revoked"),
)


def _patient_actor(actor: Actor) -> uuid.UUID:
    if actor.patient_id is None:
        raise Forbidden()
    return actor.patient_id


def _target(actor: Actor, raw: str | None) -> uuid.UUID:
    if not raw:
        return _patient_actor(actor)
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Forbidden() from None


@router.get("/portal")
async def portal(request: Request, actor: Actor = Depends(web_actor)):
    return render(
        request,
        "patients/templates/portal.html",
        family=await _family(request, actor),
        shortcuts=await shortcuts.for_actor(request, actor),
    )


@router.get("/portal/record")
async def record(request: Request, patient: str | None = None, actor: Actor = Depends(web_actor)):
    target = _target(actor, patient)
    try:
        p, decision = await service.access_patient(session_of(request), actor=actor, patient_id=target)
    except Forbidden:
        if actor.roles & policy.CARE_ROLES and target != actor.patient_id:
            return _open_page(request, target, status=403)  # not in their care: say so, and offer the glass
        raise
    own = service.is_own(actor, p, decision)
    return render(
        request,
        "patients/templates/record.html",
        p=service.to_read(p, own=own),
        own=own,
        typed=None,
        on_behalf=decision.on_behalf_of is not None,
        insurance_labels=INSURANCE_LABELS,
        message=None,
    )


EDITABLE = (
    "phone",
    "insurance_type",
    "insurance_number",
    "emergency_contact_name",
    "emergency_contact_phone",
)


@router.post("/portal/record/{patient_id}")
async def edit_record(
    request: Request, patient_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """The patient (or their family manager) changes their phone, insurance and emergency contact; an
    empty field clears it (insurance type excepted). Refused changes keep what was typed and say why."""
    form = await request.form()
    t = translator(locale_of(request))
    session = session_of(request)
    p, decision = await service.access_patient(session, actor=actor, patient_id=patient_id, action="update")
    if not service.is_own(actor, p, decision):
        raise Forbidden()  # staff change records at the desk, not here
    typed = {k: str(form.get(k, "")).strip()[:200] for k in EDITABLE}
    try:
        body = PatientUpdate(**{k: (v or None) for k, v in typed.items()})
    except ValidationError as exc:
        return render(
            request,
            "patients/templates/record.html",
            status=422,
            p=service.to_read(p, own=True),
            own=True,
            typed=typed,
            on_behalf=decision.on_behalf_of is not None,
            insurance_labels=INSURANCE_LABELS,
            message=invalid_fields_message(t, exc),
        )
    updated = await service.update_patient(
        session, patient_id=p.id, changes=body.model_dump(include=set(EDITABLE))
    )
    return render(
        request,
        "patients/templates/record.html",
        p=service.to_read(updated, own=True),
        own=True,
        typed=None,
        on_behalf=decision.on_behalf_of is not None,
        insurance_labels=INSURANCE_LABELS,
        message=t.gettext("Your details are saved."),
        saved=True,
    )


@router.get("/portal/onecode")
async def onecode(request: Request, patient: str | None = None, actor: Actor = Depends(web_actor)):
    p, _ = await service.access_patient(
        session_of(request), actor=actor, patient_id=_target(actor, patient), action="onecode"
    )
    token = service.issue_onecode(patient_id=p.id)
    return render(
        request,
        "patients/templates/onecode.html",
        p=p,
        token=token,
        svg=service.onecode_svg(token),
        minutes=get_settings().qr_token_minutes,
        own_id=actor.patient_id,
    )


async def _family(request: Request, actor: Actor):
    """The patient's family links; listing them is a read of the dependents' data, so audited."""
    session = session_of(request)
    family = await service.dependents(session, proxy_patient_id=_patient_actor(actor))
    for link, p in family:
        audit.record(session, actor, "list", "patient_proxy", link.id, patient_id=p.id)
    return family


async def _managers(request: Request, actor: Actor):
    """Who manages the patient's own affairs (their names: a read of their data, so audited)."""
    session = session_of(request)
    links = [
        (link, p)
        for link, p in await service.proxies(session, dependent_patient_id=_patient_actor(actor))
        if link.status in ("active", "pending")
    ]
    for link, p in links:
        audit.record(session, actor, "list", "patient_proxy", link.id, patient_id=p.id)
    return links


async def _family_page(
    request: Request,
    actor: Actor,
    *,
    message: str | None = None,
    ok: bool = False,
    status: int = 200,
    typed: dict | None = None,
):
    family = await _family(request, actor)
    return render(
        request,
        "patients/templates/family.html",
        status=status,
        family=family,
        message=message,
        ok=ok,
        managers=await _managers(request, actor),
        typed=typed or {},
    )


@router.get("/portal/family")
async def family(request: Request, actor: Actor = Depends(web_actor)):
    return await _family_page(request, actor)


@router.post("/portal/family")
async def add_family(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    form = await request.form()
    t = translator(locale_of(request))
    # refused if too long, not cut
    raw = {k: str(form.get(k, ""))[:200] for k in ("name", "id_number", "relationship")}
    try:
        body = DependentCreate(**raw)
        await service.add_dependent(
            session_of(request),
            actor=actor,
            proxy_patient_id=_patient_actor(actor),
            channel=get_settings().notification_channel,
            **body.model_dump(),
        )
    except ValidationError as exc:
        return await _family_page(
            request, actor, message=invalid_fields_message(t, exc), status=422, typed=raw
        )
    except DomainError as exc:
        return await _family_page(
            request, actor, message=domain_error_message(t, exc), status=exc.status, typed=raw
        )
    return RedirectResponse("/portal/family", status_code=303)


@router.post("/portal/family/{link_id}/confirm")
async def confirm_family(
    request: Request, link_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    form = await request.form()
    t = translator(locale_of(request))
    try:
        body = ProxyConfirm(code=str(form.get("code", ""))[:10])
        link = await service.confirm_dependent(
            session_of(request), proxy_patient_id=_patient_actor(actor), link_id=link_id, code=body.code
        )
    except ValidationError:
        return await _family_page(
            request, actor, message=t.gettext("The confirmation code is wrong or has expired."), status=422
        )
    except DomainError as exc:
        return await _family_page(request, actor, message=t.gettext(exc.message), status=exc.status)
    audit.record(
        session_of(request),
        actor,
        "proxy.consent",
        "patient_proxy",
        link.id,
        patient_id=link.dependent_patient_id,
    )
    return RedirectResponse("/portal/family", status_code=303)


@router.post("/portal/family/{link_id}/end")
async def end_family_link(
    request: Request, link_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """Either side ends a family link: a consenting adult stops a relative managing her affairs, or a
    manager stops managing (audited)."""
    link = await service.revoke_proxy(session_of(request), patient_id=_patient_actor(actor), link_id=link_id)
    audit.record(
        session_of(request),
        actor,
        "proxy.revoke",
        "patient_proxy",
        link.id,
        patient_id=link.dependent_patient_id,
    )
    t = translator(locale_of(request))
    return await _family_page(request, actor, ok=True, message=t.gettext("The family link is ended."))


@router.post("/portal/family/{link_id}/approve")
async def approve_family_link(
    request: Request, link_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """The adult asked about approves a relative's request to manage her affairs, in her own account."""
    t = translator(locale_of(request))
    try:
        link = await service.approve_proxy(
            session_of(request), dependent_patient_id=_patient_actor(actor), link_id=link_id
        )
    except DomainError as exc:
        return await _family_page(request, actor, message=domain_error_message(t, exc), status=exc.status)
    audit.record(
        session_of(request),
        actor,
        "proxy.consent",
        "patient_proxy",
        link.id,
        patient_id=link.dependent_patient_id,
    )
    return await _family_page(request, actor, ok=True, message=t.gettext("Approved."))


@router.get("/staff")
async def staff(request: Request, actor: Actor = Depends(web_actor)):
    require_role(actor, *CLINICAL_ROLES, Role.admin)
    return render(
        request, "patients/templates/staff.html", p=None, message=None, insurance_labels=INSURANCE_LABELS
    )


@router.post("/staff/scan")
async def staff_scan(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    require_role(actor, *CLINICAL_ROLES, Role.admin)
    form = await request.form()
    t = translator(locale_of(request))
    try:
        body = OneCodeScan(token=str(form.get("token", ""))[:500])
        patient_id = service.resolve_onecode(token=body.token)
        p, _ = await service.access_patient(
            session_of(request), actor=actor, patient_id=patient_id, action="onecode.scan"
        )
    except ValidationError:
        return render(
            request,
            "patients/templates/staff.html",
            status=422,
            p=None,
            message=t.gettext("This patient code is not valid or has expired."),
            insurance_labels=INSURANCE_LABELS,
        )
    except DomainError as exc:
        return render(
            request,
            "patients/templates/staff.html",
            status=exc.status,
            p=None,
            message=t.gettext(exc.message),
            insurance_labels=INSURANCE_LABELS,
        )
    return render(
        request,
        "patients/templates/staff.html",
        p=service.to_read(p, own=False),
        message=None,
        insurance_labels=INSURANCE_LABELS,
    )


async def _desk_page(request: Request, actor: Actor, *, status: int = 200, **ctx):
    ctx = {"created": None, "message": None, "found": None, "q_name": None, "q_mrn": None, "typed": {}, **ctx}
    return render(
        request, "patients/templates/desk.html", status=status, insurance_labels=INSURANCE_LABELS, **ctx
    )


@router.get("/desk")
async def desk(
    request: Request, name: str | None = None, mrn: str | None = None, actor: Actor = Depends(web_actor)
):
    require_role(actor, Role.registrar, Role.admin)
    found = None
    name, mrn = (name or "").strip()[:60] or None, (mrn or "").strip()[:20] or None
    if name or mrn:  # the same search as the API's: its campuses, each record shown audited
        found = await service.find_patients(session_of(request), actor=actor, name=name, mrn=mrn)
    return await _desk_page(request, actor, found=found, q_name=name, q_mrn=mrn)


@router.post("/desk/register")
async def desk_register(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    require_role(actor, Role.registrar, Role.admin)
    form = await request.form()
    t = translator(locale_of(request))
    keys = (
        "name",
        "id_number",
        "phone",
        "insurance_type",
        "insurance_number",
        "emergency_contact_name",
        "emergency_contact_phone",
    )
    # bounded, not cut to a field's size: an over-long name is refused with the reason, never shortened
    # and saved
    raw = {k: str(form.get(k, "")).strip()[:1000] for k in keys}
    raw = {k: v for k, v in raw.items() if v}
    typed = {k: v[:200] for k, v in raw.items()}  # shown again after a refusal
    campus = next(iter(sorted(actor.campus_ids)), None)
    if campus is None:
        raise Forbidden()
    try:
        body = PatientCreate(**raw)
        session = session_of(request)
        patient = await service.register_patient(
            session, campus_id=campus, **body.model_dump(exclude={"registered_campus_id"})
        )
    except ValidationError as exc:
        return await _desk_page(
            request, actor, status=422, typed=typed, message=invalid_fields_message(t, exc)
        )
    except DomainError as exc:
        return await _desk_page(
            request, actor, status=exc.status, typed=typed, message=domain_error_message(t, exc)
        )
    audit.record(session, actor, "create", "patient", patient.id, patient_id=patient.id)
    return await _desk_page(request, actor, created=patient)


@router.get("/admin")
async def admin(request: Request, mrn: str | None = None, actor: Actor = Depends(web_actor)):
    """The admin's start: the audit trail (identity/audit_trail.py), of a record number when one is given."""
    require_role(actor, Role.admin)
    return RedirectResponse(
        "/admin/audit" + (f"?{urlencode({'patient': mrn[:20]})}" if mrn else ""), status_code=303
    )


@router.get("/admin/break-glass")
async def break_glass_list(request: Request, actor: Actor = Depends(web_actor)):
    """The privacy officer's page (admins): records opened without a care relationship, by whom and why."""
    require_role(actor, Role.admin)
    rows = await service.glass_broken(session_of(request), actor=actor)
    return render(request, "patients/templates/break_glass.html", rows=rows)


def _open_page(
    request: Request,
    patient_id: uuid.UUID,
    *,
    status: int = 200,
    reason: str = "",
    message: str | None = None,
):
    return render(
        request,
        "patients/templates/break_glass_open.html",
        status=status,
        patient_id=patient_id,
        reason=reason,
        message=message,
    )


@router.post("/staff/patients/{patient_id}/open")
async def break_glass(
    request: Request, patient_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """A doctor or nurse opens the record of a patient not in their care, giving a reason (audited, listed
    for the privacy officer)."""
    if not actor.roles & policy.CARE_ROLES:
        raise Forbidden()
    form = await request.form()
    raw = str(form.get("reason", ""))[:200]
    t = translator(locale_of(request))
    try:
        body = Reason(reason=raw)
        await service.break_glass(session_of(request), actor=actor, patient_id=patient_id, reason=body.reason)
    except ValidationError:
        return _open_page(
            request,
            patient_id,
            status=422,
            reason=raw,
            message=t.gettext("Say why you need this record (at least 4 characters, plain text)."),
        )
    return RedirectResponse(f"/portal/record?patient={patient_id}", status_code=303)
