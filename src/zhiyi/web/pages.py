"""The web shell: the home page (sign-in, sign-up and preferences are identity's: identity/sign_in_web.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from zhiyi.http.auth import optional_web_actor
from zhiyi.http.tx import TxRoute
from zhiyi.web import shortcuts
from zhiyi.web.templating import render

router = APIRouter(route_class=TxRoute, include_in_schema=False)


@router.get("/")
async def home(request: Request, actor=Depends(optional_web_actor)):
    return render(request, "home.html", shortcuts=await shortcuts.for_actor(request, actor))
