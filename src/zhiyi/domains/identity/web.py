"""Pages of the identity domain: the admin's list of accounts, and the audit trail (audit_trail.py)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from zhiyi.core import audit
from zhiyi.core.errors import DomainError, ValidationFailed
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import admin, audit_trail
from zhiyi.domains.identity.errors import NotYourCampus, OwnAccount
from zhiyi.domains.identity.schemas import StaffCreate
from zhiyi.domains.org import service as org
from zhiyi.http.auth import require_role, web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.forms import domain_error_message, invalid_fields_message, parse_uuid
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)


async def _accounts_page(
    request: Request,
    actor: Actor,
    *,
    message: str | None = None,
    ok: bool = True,
    status: int = 200,
    typed: dict | None = None,
    password: tuple[str, str] | None = None,
):
    """The staff accounts this admin manages, the form to make one, and (once) a new password to hand over."""
    session = session_of(request)
    campuses = [c for c in await org.list_campuses(session) if actor.group_wide or c.id in actor.campus_ids]
    return render(
        request,
        "identity/templates/accounts.html",
        status=status,
        accounts=await admin.staff(session, actor=actor),
        campuses=campuses,
        roles=ROLE_LABELS,
        staff_roles=[r.value for r in admin.STAFF_ROLE_CHOICES],
        message=message,
        ok=ok,
        typed=typed or {},
        password=password,
    )


@router.get("/admin/accounts")
async def accounts(request: Request, actor: Actor = Depends(web_actor)):
    require_role(actor, Role.admin)
    return await _accounts_page(request, actor)


def _chosen(form, name: str) -> set[str]:
    return {str(v) for v in form.getlist(name)}


def _campus_ids(form) -> set[uuid.UUID]:
    return {c for c in (parse_uuid(v) for v in form.getlist("campus")) if c is not None}


@router.post("/admin/accounts")
async def create(request: Request, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)):
    """A staff account: username, name, roles, campuses; its first password is shown once (audited)."""
    require_role(actor, Role.admin)
    form = await request.form()
    t = translator(locale_of(request))
    typed = {
        "username": str(form.get("username", ""))[:200],
        "display_name": str(form.get("display_name", ""))[:200],
        "roles": _chosen(form, "role"),
        "campuses": _campus_ids(form),
    }
    try:
        body = StaffCreate(username=typed["username"].strip().lower(), display_name=typed["display_name"])
        account, password = await admin.create_staff(
            session_of(request),
            actor=actor,
            username=body.username,
            display_name=body.display_name,
            roles=typed["roles"],
            campus_ids=typed["campuses"],
            group_wide=form.get("group_wide") == "1",
        )
    except ValidationError as exc:
        return await _accounts_page(
            request, actor, status=422, ok=False, typed=typed, message=invalid_fields_message(t, exc)
        )
    except DomainError as exc:
        return await _accounts_page(
            request, actor, status=exc.status, ok=False, typed=typed, message=domain_error_message(t, exc)
        )
    return await _accounts_page(
        request,
        actor,
        password=(account.username, password),
        message=t.gettext("%(name)s can sign in now.", name=account.display_name),
    )


@router.post("/admin/accounts/{account_id}/access")
async def change_access(
    request: Request, account_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """New roles and campuses, at once (the account's tokens carrying the old ones stop); audited."""
    form = await request.form()
    t = translator(locale_of(request))
    try:
        account = await admin.change_access(
            session_of(request),
            actor=actor,
            account_id=account_id,
            roles=_chosen(form, "role"),
            campus_ids=_campus_ids(form),
        )
    except (NotYourCampus, OwnAccount, ValidationFailed) as exc:  # said on the page; others: error pages
        return await _accounts_page(
            request, actor, status=exc.status, ok=False, message=domain_error_message(t, exc)
        )
    return await _accounts_page(
        request, actor, message=t.gettext("%(name)s's access is changed.", name=account.display_name)
    )


@router.post("/admin/accounts/{account_id}/password")
async def new_password(
    request: Request, account_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """A new random password for a staff member who forgot theirs, shown once; they are signed out
    everywhere."""
    account, password = await admin.reset_password(session_of(request), actor=actor, account_id=account_id)
    t = translator(locale_of(request))
    return await _accounts_page(
        request,
        actor,
        password=(account.username, password),
        message=t.gettext(
            "%(name)s has a new password and is signed out everywhere.", name=account.display_name
        ),
    )


@router.post("/admin/accounts/{account_id}/active")
async def set_active(
    request: Request, account_id: uuid.UUID, actor: Actor = Depends(web_actor), _csrf=Depends(check_csrf)
):
    """Disable (every token and web session of the account ends at once) or enable an account."""
    on = (await request.form()).get("on") == "1"
    account = await admin.change_account(session_of(request), actor=actor, account_id=account_id, active=on)
    t = translator(locale_of(request))
    if on:
        message = t.gettext("%(name)s can sign in again.", name=account.display_name)
    else:
        message = t.gettext("%(name)s is disabled and signed out everywhere.", name=account.display_name)
    return await _accounts_page(request, actor, message=message)


ROLE_LABELS = {
    "patient": N_("Patient"),
    "doctor": N_("Doctor"),
    "nurse": N_("Nurse"),
    "pharmacist": N_("Pharmacist"),
    "registrar": N_("Registrar"),
    "admin": N_("Administrator"),
    "executive": N_("Executive"),
}
OUTCOME_LABELS = {"denied": N_("Refused"), "not_found": N_("Not found")}


def _day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@router.get("/admin/audit")
async def audit_page(
    request: Request,
    patient: str = "",
    who: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
    actor: Actor = Depends(web_actor),
):
    """The audit trail, as a privacy officer reads it (audit_trail.py)."""
    require_role(actor, Role.admin)
    labels = audit.action_labels()
    filters = audit_trail.Filters(
        patient=patient[:400],
        actor=who[:60],
        action=action if action in labels else "",
        since=_day(since),
        until=_day(until),
        before=audit_trail.parse_cursor(before),
    )
    page = await audit_trail.read(session_of(request), actor=actor, filters=filters)
    t = translator(locale_of(request))
    return render(
        request,
        "identity/templates/audit_trail.html",
        f=filters,
        page=page,
        actions=sorted(labels.items(), key=lambda kv: t.gettext(kv[1])),
        roles=ROLE_LABELS,
        outcomes=OUTCOME_LABELS,
        label=audit.action_label,
        why=audit.reason_label,
        query={
            "patient": patient[:400],
            "who": who[:60],
            "action": filters.action,
            "since": since if filters.since else "",
            "until": until if filters.until else "",
        },
    )
