"""Pages of the identity domain: the admin's list of accounts, and the audit trail (audit_trail.py)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Request

from zhiyi.core import audit
from zhiyi.core.i18n import N_, translator
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import admin, audit_trail, service
from zhiyi.http.auth import require_role, web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.templating import check_csrf, locale_of, render

router = APIRouter(route_class=TxRoute, include_in_schema=False)


@router.get("/admin/accounts")
async def accounts(request: Request, actor: Actor = Depends(web_actor)):
    require_role(actor, Role.admin)
    rows = await service.list_accounts(session_of(request))
    return render(request, "identity/templates/accounts.html", accounts=rows, message=None)


@router.post("/admin/accounts/{account_id}/active")
async def set_active(request: Request, account_id: uuid.UUID, actor: Actor = Depends(web_actor),
                     _csrf=Depends(check_csrf)):
    """Disable (every token and web session of the account ends at once) or enable an account."""
    on = (await request.form()).get("on") == "1"
    session = session_of(request)
    account = await admin.change_account(session, actor=actor, account_id=account_id, active=on)
    t = translator(locale_of(request))
    if on:
        message = t.gettext("%(name)s can sign in again.", name=account.display_name)
    else:
        message = t.gettext("%(name)s is disabled and signed out everywhere.", name=account.display_name)
    return render(request, "identity/templates/accounts.html", accounts=await service.list_accounts(session),
                  message=message)


ROLE_LABELS = {"patient": N_("Patient"), "doctor": N_("Doctor"), "nurse": N_("Nurse"), "pharmacist": N_("Pharmacist"),
               "registrar": N_("Registrar"), "admin": N_("Administrator"), "executive": N_("Executive")}
OUTCOME_LABELS = {"denied": N_("Refused"), "not_found": N_("Not found")}


def _day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@router.get("/admin/audit")
async def audit_page(request: Request, patient: str = "", who: str = "", action: str = "", since: str = "",
                     until: str = "", before: str = "", actor: Actor = Depends(web_actor)):
    """The audit trail, as a privacy officer reads it (audit_trail.py)."""
    require_role(actor, Role.admin)
    labels = audit.action_labels()
    filters = audit_trail.Filters(patient=patient[:400], actor=who[:60], action=action if action in labels else "",
                                  since=_day(since), until=_day(until), before=audit_trail.parse_cursor(before))
    page = await audit_trail.read(session_of(request), actor=actor, filters=filters)
    t = translator(locale_of(request))
    return render(request, "identity/templates/audit_trail.html", f=filters, page=page,
                  actions=sorted(labels.items(), key=lambda kv: t.gettext(kv[1])), roles=ROLE_LABELS,
                  outcomes=OUTCOME_LABELS, label=audit.action_label, why=audit.reason_label,
                  query={"patient": patient[:400], "who": who[:60], "action": filters.action,
                         "since": since if filters.since else "", "until": until if filters.until else ""})
