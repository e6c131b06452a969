"""Pages of the identity domain: the admin's list of accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from zhiyi.core.policy import Actor, Role
from zhiyi.domains.identity import service
from zhiyi.http.auth import require_role, web_actor
from zhiyi.http.tx import TxRoute, session_of
from zhiyi.web.templating import render

router = APIRouter(route_class=TxRoute, include_in_schema=False)


@router.get("/admin/accounts")
async def accounts(request: Request, actor: Actor = Depends(web_actor)):
    require_role(actor, Role.admin)
    rows = await service.list_accounts(session_of(request))
    return render(request, "identity/templates/accounts.html", accounts=rows)
