"""Pages of the identity domain: the admin's list of accounts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from zhiyi.core.i18n import translator
from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import admin, service
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
